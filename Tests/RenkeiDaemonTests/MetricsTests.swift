import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiSystem
import Testing

/// `/metrics` read by a strict Prometheus text-format (0.0.4) reader written here: HELP and TYPE come
/// before a family's samples, names and labels are valid, label values are correctly escaped, values
/// parse, families are not split, and no series appears twice.
@Suite struct MetricsTests {
    struct FormatError: Error, CustomStringConvertible {
        var description: String
    }

    static func isName(_ text: Substring, label: Bool = false) -> Bool {
        guard let first = text.unicodeScalars.first else { return false }
        func ok(_ c: Unicode.Scalar, _ start: Bool) -> Bool {
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" || (!label && c == ":")
                || (!start && ("0"..."9").contains(c))
        }
        return ok(first, true) && text.unicodeScalars.dropFirst().allSatisfy { ok($0, false) }
    }

    /// Parses `text`; returns the series (name + sorted labels) with their values.
    static func parse(_ text: String) throws -> [String: Double] {
        guard text.hasSuffix("\n") else { throw FormatError(description: "the exposition must end with a newline") }
        var help: Set<String> = []
        var types: [String: String] = [:]
        var finished: Set<String> = []
        var current: String?
        var series: [String: Double] = [:]
        for line in text.dropLast().split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count >= 3, ["HELP", "TYPE"].contains(parts[1]) else { continue }
                let name = String(parts[2])
                guard isName(parts[2]) else { throw FormatError(description: "bad metric name in: \(line)") }
                guard !finished.contains(name), series.keys.allSatisfy({ !$0.hasPrefix(name + "{") && $0 != name }) else {
                    throw FormatError(description: "\(parts[1]) for \(name) after its samples or a second time")
                }
                if parts[1] == "HELP" {
                    guard help.insert(name).inserted else { throw FormatError(description: "two HELP lines for \(name)") }
                } else {
                    guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw FormatError(description: "bad TYPE line: \(line)")
                    }
                    guard types[name] == nil else { throw FormatError(description: "two TYPE lines for \(name)") }
                    types[name] = String(parts[3])
                }
                if let current, current != name { finished.insert(current) }
                current = name
                continue
            }
            // name{labels} value
            var rest = line[...]
            let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
            let name = rest[..<nameEnd]
            guard isName(name) else { throw FormatError(description: "bad sample name: \(line)") }
            guard types[String(name)] != nil, help.contains(String(name)) else {
                throw FormatError(description: "sample of \(name) without HELP and TYPE before it")
            }
            guard !finished.contains(String(name)), current == String(name) else {
                throw FormatError(description: "samples of \(name) are not together")
            }
            rest = rest[nameEnd...]
            var labels: [String] = []
            if rest.first == "{" {
                rest = rest.dropFirst()
                while rest.first != "}" {
                    guard let equals = rest.firstIndex(of: "=") else { throw FormatError(description: "bad labels: \(line)") }
                    let label = rest[..<equals]
                    guard isName(label, label: true), !label.hasPrefix("__") else {
                        throw FormatError(description: "bad label name \(label)")
                    }
                    rest = rest[rest.index(after: equals)...]
                    guard rest.first == "\"" else { throw FormatError(description: "label value not quoted: \(line)") }
                    rest = rest.dropFirst()
                    var value = ""
                    while true {
                        guard let c = rest.first else { throw FormatError(description: "unterminated label value: \(line)") }
                        rest = rest.dropFirst()
                        if c == "\"" { break }
                        if c == "\\" {
                            guard let e = rest.first, ["\\", "\"", "n"].contains(e) else {
                                throw FormatError(description: "bad escape in: \(line)")
                            }
                            rest = rest.dropFirst()
                            value.append(e == "n" ? "\n" : e)
                        } else {
                            guard c != "\n" else { throw FormatError(description: "raw newline in a label value") }
                            value.append(c)
                        }
                    }
                    labels.append("\(label)=\(value)")
                    if rest.first == "," { rest = rest.dropFirst() }
                }
                rest = rest.dropFirst()
            }
            guard rest.first == " " else { throw FormatError(description: "no space before the value: \(line)") }
            let fields = rest.dropFirst().split(separator: " ")
            guard (1...2).contains(fields.count), let value = Double(fields[0]) ?? ["+Inf": .infinity, "-Inf": -.infinity, "NaN": .nan][String(fields[0])]
            else { throw FormatError(description: "bad value: \(line)") }
            if fields.count == 2, Int64(fields[1]) == nil { throw FormatError(description: "bad timestamp: \(line)") }
            if types[String(name)] == "counter", !(value >= 0) { throw FormatError(description: "negative counter: \(line)") }
            let key = "\(name){\(labels.sorted().joined(separator: ","))}"
            guard series.updateValue(value, forKey: key) == nil else { throw FormatError(description: "duplicate series \(key)") }
        }
        return series
    }

    @Test func readerRejectsBrokenExpositions() {
        #expect(throws: FormatError.self) { try Self.parse("x 1\n") }
        #expect(throws: FormatError.self) { try Self.parse("# HELP x h\n# TYPE x gauge\nx 1\nx 2\n") }
        #expect(throws: FormatError.self) { try Self.parse("# HELP x h\n# TYPE x gauge\nx{a=\"\\q\"} 1\n") }
        #expect(throws: FormatError.self) { try Self.parse("# HELP x h\n# TYPE x gauge\nx 1\n# HELP y h\n# TYPE y gauge\ny 1\nx{a=\"b\"} 2\n") }
        #expect(throws: FormatError.self) { try Self.parse("# HELP 1x h\n# TYPE 1x gauge\n1x 1\n") }
        #expect(throws: Never.self) { try Self.parse("# HELP x h\n# TYPE x counter\nx{a=\"\\\"q\\\\\\n\"} 1\n") }
    }

    @Test func metricsEndpointIsStrictlyValid() async throws {
        let fixture = try await IngestFixture(push: false)
        let line = #"{"source":"resident","event_id":"m-1","type":"resident.registered","occurred_at":"2026-04-01T09:00:00+09:00","subject":"R1","data":{"reason":"move_in","name":"試験 太郎","name_kana":"シケン タロウ","birth_date":"1980-01-01","sex":"unknown","address":"東京都千代田区九段南1丁目2番1号","postal_code":"102-0074","household_no":"H1","relationship":"世帯主"}}"#
        _ = await fixture.service.replay(body: Array((line + "\n").utf8))
        let response = await StatusRoutes(service: fixture.service).handle(HTTPRequest(method: "GET", target: "/metrics"))
        #expect(response.status == 200)
        #expect(response.headers["Content-Type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = String(decoding: response.body, as: UTF8.self)
        let series = try Self.parse(text)
        #expect(series["renkei_head_lsn{}"] == 1, "\(text)")
        #expect(series["renkei_source_events_total{source=resident}"] == 1, "\(text)")
        await fixture.service.stop()
    }
}
