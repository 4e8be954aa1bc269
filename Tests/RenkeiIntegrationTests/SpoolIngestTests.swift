import Foundation
import RenkeiCore
import Testing

/// Spool folders (contract §6): files in, `done/`, `rejected/<file>.errors.jsonl`, own source only.
@Suite("Spool ingest")
struct SpoolIngestTests {
    /// The entries of the first `rejected/*.errors.jsonl` whose name starts with `fileName`.
    static func rejectedEntries(in spool: URL, for fileName: String) -> (name: String, entries: [JSONValue])? {
        let dir = spool.appendingPathComponent("rejected")
        let stem = (fileName as NSString).deletingPathExtension
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return nil }
        // `<file>.errors.jsonl`: accept the name with or without the original extension.
        guard
            let name = names.sorted().first(where: {
                $0 == "\(fileName).errors.jsonl" || $0 == "\(stem).errors.jsonl"
            })
        else { return nil }
        let text = (try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)) ?? ""
        return (name, jsonLines(text).map { JSONValue.parse(bytes: $0.bytes) ?? .string($0) })
    }

    /// The reason text of one errors.jsonl entry (`error`, or `reason`).
    static func reason(of entry: JSONValue) -> String {
        entry["error"]?.stringValue ?? entry["reason"]?.stringValue ?? ""
    }

    /// Waits until `name` is in the spool's `done/`.
    static func waitForDone(_ daemon: DaemonHarness, source: String, name: String) async throws -> Bool {
        let done = daemon.spool(source).appendingPathComponent("done/\(name)").path
        return try await daemon.waitUntil(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: done) }
    }

    @Test func badLineRejectedWithFileLineField() async throws {
        try await withDaemon { daemon in
            try await daemon.start()
            let good = residentRegistered(eventID: "R-GOOD-1", subject: "000200001")
            var unknownKey = JSONValue.parse(bytes: residentRegistered(eventID: "R-BAD-2", subject: "000200002").bytes)!
                .objectValue!
            var data = unknownKey["data"]!.objectValue!
            data["nickname"] = "タロ"
            unknownKey["data"] = .object(data)
            let badDate = residentRegistered(eventID: "R-BAD-3", subject: "000200003", birthDate: "1980-02-30")
            let name = "batch-0001.jsonl"
            try daemon.writeSpoolFile(
                source: "resident", name: name,
                text: [good, JSONValue.object(unknownKey).serializedString, badDate].joined(separator: "\n") + "\n")

            #expect(try await Self.waitForDone(daemon, source: "resident", name: name), "\(name) never reached done/")
            let person = try await daemon.get("/v1/persons?source=resident&subject=000200001")
            #expect(person.status == 200, "the good line should be projected: \(person.status) \(person.text)")
            for subject in ["000200002", "000200003"] {
                let absent = try await daemon.get("/v1/persons?source=resident&subject=\(subject)")
                #expect(absent.status == 404, "rejected line for \(subject) must not be in the log: \(absent.text)")
            }
            let status = try await daemon.status()
            #expect(status["head_lsn"]?.integerValue == 1, "status: \(status.serializedString)")

            let rejected = try #require(
                Self.rejectedEntries(in: daemon.spool("resident"), for: name),
                "no rejected/\(name).errors.jsonl")
            #expect(rejected.entries.count == 2, "\(rejected.name): \(rejected.entries.map(\.serializedString))")
            let byLine = Dictionary(
                rejected.entries.compactMap { e in e["line"]?.integerValue.map { ($0, e) } },
                uniquingKeysWith: { a, _ in a })
            #expect(Set(byLine.keys) == [2, 3], "line numbers: \(rejected.entries.map(\.serializedString))")
            #expect(
                Self.reason(of: byLine[2] ?? .null).contains("nickname"),
                "line 2 reason should name the key: \(byLine[2]?.serializedString ?? "-")")
            #expect(
                Self.reason(of: byLine[3] ?? .null).contains("birth_date"),
                "line 3 reason should name the field: \(byLine[3]?.serializedString ?? "-")")
            #expect(
                !FileManager.default.fileExists(atPath: daemon.spool("resident").appendingPathComponent(name).path),
                "the original file should have left the spool folder")
            try await daemon.stop()
        }
    }

    @Test func mixedSourceInSpoolRejected() async throws {
        try await withDaemon { daemon in
            try await daemon.start()
            let own = residentRegistered(eventID: "R-OWN-1", subject: "000300001")
            let other = libraryPatronRegistered(eventID: "L-OTHER-1", subject: "LIB-MIX-1", name: "混入 次郎")
            let name = "mixed-0001.jsonl"
            try daemon.writeSpoolFile(source: "resident", name: name, text: own + "\n" + other + "\n")

            #expect(try await Self.waitForDone(daemon, source: "resident", name: name), "\(name) never reached done/")
            let status = try await daemon.status()
            #expect(
                status["head_lsn"]?.integerValue == 1,
                "only the resident line may be logged: \(status.serializedString)")
            let absent = try await daemon.get("/v1/persons?source=library&subject=LIB-MIX-1")
            #expect(absent.status == 404, "a library event in the resident spool must be rejected: \(absent.text)")
            let rejected = try #require(
                Self.rejectedEntries(in: daemon.spool("resident"), for: name), "no rejected/\(name).errors.jsonl")
            #expect(rejected.entries.count == 1, "\(rejected.entries.map(\.serializedString))")
            #expect(rejected.entries.first?["line"]?.integerValue == 2)
            #expect(
                Self.reason(of: rejected.entries.first ?? .null).contains("source"),
                "the reason should name the field `source`: \(rejected.entries.first?.serializedString ?? "-")")
            try await daemon.stop()
        }
    }
}
