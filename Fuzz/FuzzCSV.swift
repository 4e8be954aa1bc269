// libFuzzer target: the CSV reader and 和暦 conversion over arbitrary bytes (built by ops/fuzz with
// the RenkeiCore sources in one module). Any trap or sanitizer report is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let records = CSVReader.records(bytes)
    for record in records.prefix(64) {
        for field in record.fields.prefix(16) {
            let text = String(decoding: field, as: UTF8.self)
            if Wareki.looksLikeWareki(text) { _ = Wareki.isoDate(text) }
            _ = Wareki.isoDate(text)
        }
    }
    return 0
}
