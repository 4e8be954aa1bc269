import Foundation
import Glibc
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiSystem
import Testing

/// Issue 13, spool: an entry a source's account put in its spool is not trusted. A symbolic link, a
/// FIFO, a device and a file over `max_file_bytes` are moved into `rejected/` unread with a reason,
/// while the good file after them in the same spool and another source's file are ingested.
@Suite("Ingest: untrusted spool entries")
struct SpoolEntryTests {
    @Test(.timeLimit(.minutes(2)))
    func linksPipesDevicesAndOversizeFilesAreRefusedWhileTheRestFlows() async throws {
        let fixture = try await IngestFixture(sources: ["library": ["max_file_bytes": 2000]], push: false, start: false)
        defer { Task { await fixture.stop() } }
        let spool = fixture.spool("library")
        // A link to a file the daemon could read, holding a valid event: it must never be followed.
        let outside = fixture.root.appendingPathComponent("outside.jsonl")
        try Data((IngestEvents.patron("LINKED-1", subject: "LIB-9") + "\n").utf8).write(to: outside)
        try FileManager.default.createSymbolicLink(
            atPath: spool.appendingPathComponent("a-link.jsonl").path, withDestinationPath: outside.path)
        // A FIFO nobody writes to: reading it would block the spool for ever.
        #expect(mkfifo(spool.appendingPathComponent("b-pipe.jsonl").path, 0o600) == 0)
        // A device node, where the test may make one (root, a file system without nodev).
        let device = spool.appendingPathComponent("c-device.jsonl").path
        let madeDevice = mknod(device, S_IFCHR | 0o600, dev_t(259)) == 0  // 259: makedev(1, 3), like /dev/null
        // Valid events, but more bytes than max_file_bytes: refused by size, not read.
        let big = (0..<30).map { IngestEvents.patron("BIG-\($0)", subject: "LIB-B\($0)") }.joined(separator: "\n") + "\n"
        #expect(big.utf8.count > 2000)
        try fixture.drop(Array(big.utf8), as: "d-big.jsonl", into: "library")
        // After them, in name order: a good file of the same source, and one of another source.
        try fixture.drop(Array((IngestEvents.patron("GOOD-1", subject: "LIB-1") + "\n").utf8), as: "e-good.jsonl", into: "library")
        try fixture.drop(
            Array((IngestEvents.registered("RES-1", subject: "000000001") + "\n").utf8), as: "a.jsonl", into: "resident")

        try fixture.service.start()
        #expect(await fixture.waitTaken("e-good.jsonl", source: "library"))
        #expect(await fixture.waitTaken("a.jsonl", source: "resident"))
        let ids = Set(try await fixture.loggedEvents().compactMap { $0.event.envelope["event_id"]?.stringValue })
        #expect(ids == ["GOOD-1", "RES-1"], "only the good files were read: \(ids.sorted())")

        var refused: [(name: String, kind: UntrustedFile.Kind, reason: String)] = [
            ("a-link.jsonl", .symbolicLink, "a symbolic link (to \(outside.path))"),
            ("b-pipe.jsonl", .fifo, "a FIFO"),
            ("d-big.jsonl", .regular, "over sources.library.max_file_bytes (2000)"),
        ]
        if madeDevice { refused.append(("c-device.jsonl", .characterDevice, "a character device")) }
        for entry in refused {
            let moved = spool.appendingPathComponent("rejected/\(entry.name)").path
            // The entry itself is in rejected/ (a link still a link, the pipe still a pipe), not in the spool.
            #expect(try UntrustedFile.kind(atPath: moved) == entry.kind, "\(entry.name)")
            #expect(!UntrustedFile.exists(atPath: spool.appendingPathComponent(entry.name).path), "\(entry.name) left in the spool")
            let reasons = fixture.rejections(entry.name, source: "library")
            #expect(reasons.count == 1, "\(entry.name): \(reasons)")
            #expect(reasons.first?["file"]?.stringValue == entry.name)
            let error = reasons.first?["error"]?.stringValue ?? ""
            #expect(error.contains(entry.reason) && error.contains("rejected/"), "\(entry.name): \(error)")
        }
        #expect(FileManager.default.fileExists(atPath: outside.path), "the link's target is untouched")
        let library = try fixture.status()["sources"]?["library"]
        #expect(library?["rejected"]?.integerValue == Int64(refused.count))
        #expect(library?["events"]?.integerValue == 1)
        #expect(try fixture.status()["sources"]?["resident"]?["events"]?.integerValue == 1)
    }

    @Test(.timeLimit(.minutes(2)))
    func aDoneFolderReplacedByALinkStopsOnlyThatSpool() async throws {
        let fixture = try await IngestFixture(push: false, start: false)
        defer { Task { await fixture.stop() } }
        let done = fixture.spool("library").appendingPathComponent("done")
        let elsewhere = fixture.root.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        try FileManager.default.removeItem(at: done)
        try FileManager.default.createSymbolicLink(atPath: done.path, withDestinationPath: elsewhere.path)
        try fixture.drop(Array((IngestEvents.patron("LIB-1", subject: "LIB-1") + "\n").utf8), as: "a.jsonl", into: "library")
        try fixture.drop(
            Array((IngestEvents.registered("RES-1", subject: "000000001") + "\n").utf8), as: "a.jsonl", into: "resident")
        try fixture.service.start()
        // resident is scanned after library: once its file is in, library's scan has been refused.
        #expect(await fixture.waitTaken("a.jsonl", source: "resident"))
        #expect(FileManager.default.fileExists(atPath: fixture.spool("library").appendingPathComponent("a.jsonl").path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path).isEmpty, "nothing moved through the link")
        let error = try fixture.status()["sources"]?["library"]?["last_error"]?.stringValue ?? ""
        #expect(error.contains("done is not a directory"), "\(error)")

        // A real done/ again: the file is taken.
        try FileManager.default.removeItem(atPath: done.path)
        try FileManager.default.createDirectory(at: done, withIntermediateDirectories: false)
        #expect(await fixture.waitTaken("a.jsonl", source: "library"))
        #expect(FileManager.default.fileExists(atPath: done.appendingPathComponent("a.jsonl").path))
    }

    @Test func maxFileBytesIsCheckedAndDefaults() throws {
        func configuration(_ library: JSONObject) throws(RenkeiError) -> Configuration {
            try Configuration(json: ["municipality": "131016", "sources": ["library": .object(library)]], file: "renkei.json")
        }
        #expect(try configuration([:]).sources["library"]?.maxFileBytes == Configuration.Source.defaultMaxFileBytes)
        #expect(try configuration(["max_file_bytes": 5_000_000]).sources["library"]?.maxFileBytes == 5_000_000)
        #expect(throws: RenkeiError.self) { try configuration(["max_file_bytes": 0]) }
        #expect(throws: RenkeiError.self) { try configuration(["max_file_bytes": "1G"]) }
    }
}
