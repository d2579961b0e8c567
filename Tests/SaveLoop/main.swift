// nn-save-loop PATH FIRST: saves a checkpoint to PATH over and over,
// alternating two contents (every value 1 or every value 2, starting with
// FIRST), until it is killed:
// the child process of the killed-save test
// (Tests/NNTests/Checkpoints/KilledSaveTests.swift). Not a product.
import Foundation
import NN

guard CommandLine.arguments.count == 3, let first = Int(CommandLine.arguments[2]), first == 1 || first == 2 else {
    print("usage: nn-save-loop PATH FIRST (1 or 2)")
    exit(64)
}
let url = URL(fileURLWithPath: CommandLine.arguments[1])
// 4 MiB per save, so a kill often lands mid-write.
let contents = [1.0, 2.0].map { value in [(name: "weight", tensor: Tensor.full([1024, 1024], value, on: .cpu))] }
var round = first - 1
while true {
    do {
        try Checkpoint.save(contents[round % 2], to: url)
    } catch {
        print("nn-save-loop: \(error)")
        exit(1)
    }
    round += 1
}
