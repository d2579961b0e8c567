/// What the training loop needs from data-parallel training: several
/// processes, each with a copy of the model and its own shard of every
/// epoch (`DataShard`), that average their gradients after every backward
/// pass, so that they all take the same step. NNDistributed's `DataParallel`
/// provides it over MPI; `Trainer.dataParallel` and `evaluate(_:on:loss:across:)`
/// use it.
public protocol DataParallelism: AnyObject {
    /// This process's index, 0..<worldSize; rank 0 prints and writes files.
    var rank: Int { get }
    /// The number of processes.
    var worldSize: Int { get }
    /// After `backward()`: the model's gradients become their mean over the
    /// processes, on every process.
    func synchronizeGradients() throws
    /// The sums over the processes of `values` (the same count on each),
    /// on every process.
    func sumAcrossProcesses(_ values: [Double]) throws -> [Double]
    /// Throws on every process, naming each one's `value`, unless all
    /// processes pass the same (say, the epoch a resumed run starts from).
    func agree(_ operation: String, _ value: String) throws
}
