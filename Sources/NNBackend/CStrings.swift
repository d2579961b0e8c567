/// Text a C library (the OpenCL driver, Open MPI) wrote into a buffer the
/// caller sized: everything before the first NUL, as UTF-8.
extension String {
    package init(nulTerminated bytes: [CChar]) {
        self.init(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
