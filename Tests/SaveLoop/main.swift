// nn-save-loop PATH: saves a checkpoint to PATH over and over, alternating
// two contents (every value 1, then every value 2), until it is killed:
// the child process of the killed-save test
// (Tests/NNTests/Checkpoints/KilledSaveTests.swift). Not a product.
import Foundation
import NN

guard CommandLine.arguments.count == 2 else {
    print("usage: nn-save-loop PATH")
    exit(64)
}
let url = URL(fileURLWithPath: CommandLine.arguments[1])
// 4 MiB per save, so a kill often lands mid-write.
let contents = [1.0, 2.0].map { value in [(name: "weight", tensor: Tensor.full([1024, 1024], value, on: .cpu))] }
var round = 0
while true {
    do {
        try Checkpoint.save(contents[round % 2], to: url)
    } catch {
        print("nn-save-loop: \(error)")
        exit(1)
    }
    round += 1
}
