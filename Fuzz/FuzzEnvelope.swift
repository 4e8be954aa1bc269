// libFuzzer target: the envelope decoder and validator (JSON parser, schemas, Event) over arbitrary
// bytes, as one JSONL line. The schemas are read once from $RENKEI_SCHEMAS (ops/fuzz sets it).
import Foundation

let fuzzValidator: EventValidator = {
    let directory = ProcessInfo.processInfo.environment["RENKEI_SCHEMAS"] ?? "Schemas"
    var files: [String: [UInt8]] = [:]
    let enumerator = FileManager.default.enumerator(atPath: directory)!
    while let name = enumerator.nextObject() as? String {
        if name.hasSuffix(".json"), let data = FileManager.default.contents(atPath: directory + "/" + name) {
            files[name] = Array(data)
        }
    }
    return EventValidator(schemas: try! SchemaSet(files: files))
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEnvelope(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    _ = fuzzValidator.validate(line: bytes, expectedSource: nil)
    _ = fuzzValidator.validate(line: bytes, expectedSource: "library")
    return 0
}
