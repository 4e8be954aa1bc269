// libFuzzer target: the incremental HTTP/1.1 request parser over arbitrary bytes, fed whole and in
// two pieces (the split point taken from the first byte). Built with RenkeiSystem's HTTP sources.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    for pieces in [[bytes[...]], [bytes[..<split], bytes[split...]]] {
        var parser = HTTPRequestParser(maxHeaderBytes: 4096, maxBodyBytes: 65536)
        for piece in pieces {
            parser.append(piece)
            var events = 0
            while events < 64 {
                guard let event = try? parser.next() else { break }
                events += 1
                if case .end = event { continue }
            }
        }
    }
    return 0
}
