import RenkeiCore
import Testing

/// Test support for the projection and delta suites: JSONL lines become `LoggedEvent`s through
/// `JSONParser` and `Event(envelope:)` (no schema validation: the fixtures are valid by hand).
enum EventLog {
    /// Parses one envelope line into a logged event with the given lsn.
    static func event(_ line: String, lsn: Int64) throws -> LoggedEvent {
        guard let envelope = try JSONParser.parse(line).objectValue else {
            throw RenkeiError(.invalidEvent, "fixture line is not an object: \(line)")
        }
        return LoggedEvent(
            lsn: lsn, recordedAt: "2026-01-01T00:00:00.000Z", hash: String(repeating: "0", count: 64),
            event: try Event(envelope: envelope))
    }

    /// Parses JSONL (blank lines skipped) into logged events numbered from `firstLSN`.
    static func events(_ jsonl: String, firstLSN: Int64 = 1) throws -> [LoggedEvent] {
        var result: [LoggedEvent] = []
        for line in jsonl.split(separator: "\n") where !line.allSatisfy(\.isWhitespace) {
            result.append(try event(String(line), lsn: firstLSN + Int64(result.count)))
        }
        return result
    }

    /// A projection with `events` applied in order.
    static func project(_ events: [LoggedEvent]) -> Projection {
        var projection = Projection()
        for event in events { projection.apply(event) }
        return projection
    }

    /// The lines of contract/examples/sample.jsonl (1-based line n is `sampleLines[n - 1]`).
    static let sampleLines: [String] = sampleJSONL.split(separator: "\n").map(String.init)

    /// What the log holds after replaying the sample: line 15 is rejected (a reading record) and
    /// line 17 is a duplicate of line 1, so 15 events, lsn 1–15.
    static func sampleLog() throws -> [LoggedEvent] {
        let kept = sampleLines.enumerated().filter { $0.offset + 1 != 15 && $0.offset + 1 != 17 }.map(\.element)
        return try events(kept.joined(separator: "\n"))
    }

    /// A copy of /work/shared/contract/examples/sample.jsonl, so the tests need nothing outside the repo.
    static let sampleJSONL = #"""
{"source":"resident","event_id":"R-0001","type":"resident.registered","occurred_at":"2026-04-01T09:00:00+09:00","subject":"000100001","data":{"reason":"move_in","name":"髙橋 一郎","name_kana":"タカハシ イチロウ","birth_date":"1985-06-12","sex":"male","address":"東京都千代田区九段南1丁目2番1号","postal_code":"102-0074","household_no":"H000501","relationship":"世帯主","my_number":"123456789018"}}
{"source":"resident","event_id":"R-0002","type":"resident.registered","occurred_at":"2026-04-01T09:00:01+09:00","subject":"000100002","data":{"reason":"move_in","name":"髙橋 花子","name_kana":"タカハシ ハナコ","birth_date":"1987-11-03","sex":"female","address":"東京都千代田区九段南1丁目2番1号","postal_code":"102-0074","household_no":"H000501","relationship":"妻"}}
{"source":"resident","event_id":"R-0003","type":"resident.registered","occurred_at":"2026-04-01T09:00:02+09:00","subject":"000100003","data":{"reason":"move_in","name":"髙橋 陽太","name_kana":"タカハシ ヨウタ","birth_date":"2022-02-20","sex":"male","address":"東京都千代田区九段南1丁目2番1号","postal_code":"102-0074","household_no":"H000501","relationship":"子"}}
{"source":"resident","event_id":"R-0004","type":"resident.registered","occurred_at":"2026-04-02T10:15:00+09:00","subject":"000100004","data":{"reason":"move_in","name":"渡邊 さくら","name_kana":"ワタナベ サクラ","birth_date":"1990-01-15","sex":"female","address":"東京都千代田区神田神保町3丁目5番","postal_code":"101-0051","household_no":"H000502","relationship":"世帯主"}}
{"source":"library","event_id":"L-0001","type":"library.patron_registered","occurred_at":"2026-04-03T11:00:00+09:00","subject":"LIB-20001","data":{"name":"高橋 一郎","name_kana":"ﾀｶﾊｼ ｲﾁﾛｳ","birth_date":"1985-06-12","address":"千代田区九段南１－２－１"}}
{"source":"library","event_id":"L-0002","type":"library.patron_registered","occurred_at":"2026-04-03T11:05:00+09:00","subject":"LIB-20002","data":{"name":"佐藤 健","name_kana":"サトウ ケン","birth_date":"1979-09-09","address":"東京都新宿区西新宿2-8-1"}}
{"source":"tax","event_id":"T-2026-0001","type":"tax.assessed","occurred_at":"2026-06-01T08:00:00+09:00","subject":"TX-900001","data":{"fiscal_year":2026,"taxable":true,"income_levy":182400,"per_capita_levy":5000,"atena_no":"000100001"}}
{"source":"tax","event_id":"T-2026-0002","type":"tax.assessed","occurred_at":"2026-06-01T08:00:01+09:00","subject":"TX-900002","data":{"fiscal_year":2026,"taxable":false,"income_levy":0,"per_capita_levy":0,"atena_no":"000100002"}}
{"source":"tax","event_id":"T-2026-0003","type":"tax.assessed","occurred_at":"2026-06-01T08:00:02+09:00","subject":"TX-900003","data":{"fiscal_year":2026,"taxable":false,"income_levy":0,"per_capita_levy":0,"atena_no":"000100004"}}
{"source":"tax","event_id":"T-2026-0004","type":"tax.assessed","occurred_at":"2026-06-01T08:00:03+09:00","subject":"TX-950001","data":{"fiscal_year":2026,"taxable":true,"income_levy":0,"per_capita_levy":5000,"name":"鈴木 次郎","name_kana":"スズキ ジロウ","birth_date":"1960-03-30","address":"神奈川県横浜市中区本町6丁目50番地"}}
{"source":"childcare","event_id":"C-0001","type":"childcare.applied","occurred_at":"2026-06-10T14:00:00+09:00","subject":"CH-3001","data":{"child":{"name":"高橋 陽太","name_kana":"たかはし ようた","birth_date":"2022-02-20"},"guardians":[{"atena_no":"000100001","name":"髙橋 一郎","name_kana":"タカハシ イチロウ"}],"preferred_facilities":["F-101","F-104"]}}
{"source":"childcare","event_id":"C-0002","type":"childcare.enrolled","occurred_at":"2026-07-01T09:00:00+09:00","subject":"CH-3001","data":{"facility_code":"F-101","start_date":"2026-07-01","certification":"3"}}
{"source":"childcare","event_id":"C-0003","type":"childcare.fee_decided","occurred_at":"2026-07-01T09:00:01+09:00","subject":"CH-3001","data":{"fiscal_year":2026,"fee_tier":"D7","monthly_fee":31500}}
{"source":"resident","event_id":"R-0005","type":"resident.moved","occurred_at":"2026-08-20T09:30:00+09:00","subject":"000100004","data":{"address":"東京都千代田区一番町10番地2","postal_code":"102-0082"}}
{"source":"library","event_id":"L-0003","type":"library.loan_recorded","occurred_at":"2026-08-21T15:00:00+09:00","subject":"LIB-20001","data":{"title":"…"}}
{"source":"resident","event_id":"R-0006","type":"resident.moved_out","occurred_at":"2026-09-30T09:00:00+09:00","subject":"000100002","effective_date":"2026-09-28","data":{"destination":"大阪府大阪市北区"}}
{"source":"resident","event_id":"R-0001","type":"resident.registered","occurred_at":"2026-04-01T09:00:00+09:00","subject":"000100001","data":{"reason":"move_in","name":"髙橋 一郎","name_kana":"タカハシ イチロウ","birth_date":"1985-06-12","sex":"male","address":"東京都千代田区九段南1丁目2番1号","postal_code":"102-0074","household_no":"H000501","relationship":"世帯主","my_number":"123456789018"}}
"""#
}

/// Reading a value out of a view in tests.
extension JSONObject {
    /// The member's compact JSON text (`"null"` when absent), for readable expectations.
    func text(_ key: String) -> String { (self[key] ?? .null).serializedString }
}

@Suite struct ProjectionFixtureTests {
    @Test func sampleLogHasFifteenEvents() throws {
        let log = try EventLog.sampleLog()
        #expect(log.count == 15)
        #expect(log.map(\.lsn) == Array(1...15))
        #expect(!log.contains { $0.event.type == "library.loan_recorded" })
    }
}
