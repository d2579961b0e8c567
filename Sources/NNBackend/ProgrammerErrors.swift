/// The checks of programmer mistakes (mismatched shapes, an axis out of
/// range, a bad count, mixed devices), for every layer of the library.
///
/// Swift's `precondition` drops its message in optimized builds ("Swift
/// runtime failure: precondition failure"), and the message is all that
/// tells a user which call was wrong. These stop through `fatalError`,
/// which prints the message and the caller's file and line in every build.

/// Stops with `message` unless `condition` holds. Inlinable, so that a
/// check in another module's loop (an index of gather) is a compare and a
/// branch, not a call that builds two closures per element.
@inlinable @inline(__always)
package func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
             file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}

/// Stops with `message`: a state that a correct program never reaches.
package func requirementFailed(_ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError(message(), file: file, line: line)
}
