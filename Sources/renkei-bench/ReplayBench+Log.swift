import RenkeiCore

extension ReplayBench {
    /// The synthetic municipality's event log, as JSONL batches: valid events, plus the invalid ones
    /// it injects on purpose (and remembers, so the bench can check each was refused for its reason).
    struct SyntheticLog {
        /// A kind of invalid event the generator injects, with the reason the daemon must give.
        enum Invalid: String, CaseIterable, Sendable {
            case impossibleDate = "library.patron_registered with birth_date 2001-02-30"
            case levyWhileExempt = "tax.corrected with taxable false and income_levy > 0"
            case unknownType = "resident.teleported (no such event type)"
            case badMyNumber = "resident.registered with a wrong 個人番号 check digit"

            /// A fragment of the rejection's error text that shows it was refused for this reason.
            var expectedError: String {
                switch self {
                case .impossibleDate: return "data.birth_date: must be a date"
                case .levyWhileExempt: return "data.income_levy: must be 0 when taxable is false"
                case .unknownType: return "type: unknown event type"
                case .badMyNumber: return "data.my_number:"
                }
            }
        }

        /// The lines in batches of at most `batch`.
        var batches: [[String]]
        /// Global line index (0-based, across batches) → the invalid kind injected there.
        var injected: [Int: Invalid]
        /// The batch size used.
        var batchSize: Int

        var total: Int { batches.reduce(0) { $0 + $1.count } }

        /// About `events` envelopes for `residents` residents, in batches of `batch` lines:
        /// every resident registered (with a valid 個人番号 for adults), tax assessments by 宛名番号
        /// for adults, library patrons without one (one record per 10 residents, matched), childcare
        /// application (with the household head as guardian) + enrolment + fee for young children,
        /// then 転居, 誤記修正, 更正 and card updates spread over the population until the count is
        /// reached; one line in every `invalidEvery` of that last phase is an invalid event instead
        /// (0: none).
        init(residents count: Int, events: Int, batch: Int, invalidEvery: Int) {
            var population = SyntheticPopulation(residents: count)
            var patrons = population.records(count: max(1, count / 10), residentShare: 0.8)
            var lines: [String] = []
            var injected: [Int: Invalid] = [:]
            lines.reserveCapacity(events)
            var random = UInt64(0x5EED)
            func next(_ bound: Int) -> Int {
                random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Int((random >> 33) % UInt64(bound))
            }
            func line(_ source: String, _ id: String, _ type: String, _ subject: String, _ data: JSONObject) -> String {
                let envelope: JSONValue = [
                    "source": .string(source), "event_id": .string(id), "type": .string(type),
                    "occurred_at": "2026-04-01T09:00:00+09:00", "subject": .string(subject), "data": .object(data),
                ]
                return envelope.serializedString
            }
            func atena(_ index: Int) -> String { Self.pad(index + 1, 9) }
            func birthYear(_ index: Int) -> Int {
                Int(population.residents[index].identity["birth_date"]?.stringValue?.prefix(4) ?? "2000") ?? 2000
            }
            var children: [Int] = []
            var adults: [Int] = []
            var householdHead: [String: Int] = [:]
            for (index, resident) in population.residents.enumerated() {
                var data = JSONObject()
                data["reason"] = "move_in"
                for key in ["name", "name_kana", "birth_date", "sex", "address"] {
                    if let value = resident.identity[key] { data[key] = value }
                }
                data["household_no"] = .string(resident.household)
                let head = householdHead[resident.household] == nil
                if head { householdHead[resident.household] = index }
                data["relationship"] = head ? "世帯主" : "世帯員"
                let year = birthYear(index)
                if year < 2008 { data["my_number"] = .string(Self.myNumber(index)) }
                if year < 2007 { adults.append(index) }
                if year >= 2020, let guardian = householdHead[resident.household], guardian != index {
                    children.append(index)
                }
                lines.append(line("resident", "R-\(index)", "resident.registered", atena(index), data))
            }
            for index in adults {
                let taxable = index % 4 != 0
                lines.append(line("tax", "T-\(index)", "tax.assessed", "TX-\(index)", [
                    "fiscal_year": 2025, "taxable": .bool(taxable),
                    "income_levy": .integer(taxable ? Int64(50_000 + index % 200_000) : 0),
                    "per_capita_levy": .integer(taxable ? 5000 : 0), "atena_no": .string(atena(index)),
                ]))
            }
            for number in patrons.indices {
                // The corruption can swap month and day; a source sends such a date, and the daemon refuses
                // it, but that is an injected error, counted below, not an accident of the generator.
                if let date = patrons[number].identity["birth_date"]?.stringValue, !Self.isValidDate(date) {
                    patrons[number].identity["birth_date"] = patrons[number].truth.flatMap {
                        population.residents[$0].identity["birth_date"]
                    } ?? "1970-01-01"
                }
            }
            for (number, patron) in patrons.enumerated() {
                var data = patron.identity
                if data["name"] == nil { data["name"] = "不明 氏名" }
                if data["birth_date"] == nil { data["birth_date"] = "1970-01-01" }
                if data["address"] == nil { data["address"] = "東京都千代田区九段南1丁目2番1号" }
                data["sex"] = nil
                lines.append(line("library", "L-\(number)", "library.patron_registered", "LIB-\(number)", data))
            }
            for child in children {
                let identity = population.residents[child].identity
                let household = population.residents[child].household
                let guardian = householdHead[household] ?? child
                let subject = "CH-\(child)"
                lines.append(line("childcare", "C-\(child)-a", "childcare.applied", subject, [
                    "child": [
                        "atena_no": .string(atena(child)), "name": identity["name"] ?? "",
                        "birth_date": identity["birth_date"] ?? "",
                    ],
                    "guardians": [[
                        "atena_no": .string(atena(guardian)),
                        "name": population.residents[guardian].identity["name"] ?? "",
                    ]],
                    "preferred_facilities": ["F-101"],
                ]))
                lines.append(line("childcare", "C-\(child)-e", "childcare.enrolled", subject, [
                    "facility_code": "F-101", "start_date": "2026-04-01", "certification": "2",
                ]))
                lines.append(line("childcare", "C-\(child)-f", "childcare.fee_decided", subject, [
                    "fiscal_year": 2026, "fee_tier": "D10", "monthly_fee": 30000,
                ]))
            }
            // Life goes on: moves, corrections, 更正 and card updates until the count is reached.
            var serial = 0
            var invalidSerial = 0
            while lines.count < events {
                serial += 1
                if invalidEvery > 0, serial % invalidEvery == 0 {
                    let kind = Invalid.allCases[invalidSerial % Invalid.allCases.count]
                    invalidSerial += 1
                    injected[lines.count] = kind
                    lines.append(Self.invalidLine(kind, serial: serial, line: line))
                    continue
                }
                let index = next(count)
                switch serial % 10 {
                case 0...4:
                    lines.append(line("resident", "RM-\(serial)", "resident.moved", atena(index), [
                        "address": .string("東京都千代田区神田神保町\(1 + next(3))丁目\(1 + next(30))番\(1 + next(20))号"),
                    ]))
                case 5, 6:
                    lines.append(line("resident", "RC-\(serial)", "resident.corrected", atena(index), [
                        "postal_code": .string("101-00\(10 + next(80))"),
                    ]))
                case 7, 8:
                    let adult = adults.isEmpty ? index : adults[next(adults.count)]
                    let taxable = next(2) == 0
                    lines.append(line("tax", "TC-\(serial)", "tax.corrected", "TX-\(adult)", [
                        "fiscal_year": 2025, "taxable": .bool(taxable),
                        "income_levy": .integer(taxable ? Int64(next(300_000)) : 0),
                        "per_capita_levy": .integer(taxable ? 5000 : 0), "atena_no": .string(atena(adult)),
                    ]))
                default:
                    let patron = next(patrons.count)
                    lines.append(line("library", "LU-\(serial)", "library.patron_updated", "LIB-\(patron)", [
                        "postal_code": .string("102-00\(10 + next(80))"),
                    ]))
                }
            }
            batchSize = batch
            self.injected = injected
            batches = stride(from: 0, to: lines.count, by: batch).map { Array(lines[$0..<min($0 + batch, lines.count)]) }
        }

        /// One invalid event of `kind` (its event id is new, so it is never a duplicate).
        static func invalidLine(
            _ kind: Invalid, serial: Int, line: (String, String, String, String, JSONObject) -> String
        ) -> String {
            switch kind {
            case .impossibleDate:
                return line("library", "LX-\(serial)", "library.patron_registered", "LIBX-\(serial)", [
                    "name": "山田 花子", "birth_date": "2001-02-30", "address": "東京都千代田区九段南1丁目2番1号",
                ])
            case .levyWhileExempt:
                return line("tax", "TX-\(serial)", "tax.corrected", "TXX-\(serial)", [
                    "fiscal_year": 2025, "taxable": false, "income_levy": 12000, "per_capita_levy": 0,
                    "atena_no": "000000001",
                ])
            case .unknownType:
                return line("resident", "RX-\(serial)", "resident.teleported", "000000001", ["address": "月面"])
            case .badMyNumber:
                var number = Array(myNumber(serial).utf8)
                number[11] = number[11] == UInt8(ascii: "9") ? UInt8(ascii: "0") : number[11] + 1
                return line("resident", "RX-\(serial)", "resident.registered", pad(900_000_000 + serial, 9), [
                    "reason": "move_in", "name": "山田 太郎", "birth_date": "1980-01-01", "sex": "male",
                    "address": "東京都千代田区九段南1丁目2番1号", "household_no": "HX",
                    "relationship": "世帯主", "my_number": .string(String(decoding: number, as: UTF8.self)),
                ])
            }
        }

        /// Whether `YYYY-MM-DD` names a day (the synthetic days are 1…28, so the month decides).
        static func isValidDate(_ text: String) -> Bool {
            let bytes = Array(text.utf8)
            guard bytes.count == 10 else { return false }
            let month = (Int(bytes[5]) - 48) * 10 + Int(bytes[6]) - 48
            let day = (Int(bytes[8]) - 48) * 10 + Int(bytes[9]) - 48
            return (1...12).contains(month) && (1...28).contains(day)
        }

        static func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }

        /// A 12-digit 個人番号 with a valid check digit (番号法施行令 8条).
        static func myNumber(_ index: Int) -> String {
            let base = Array(pad(100_000_000 + index, 11).utf8).map { Int($0) - 48 }
            var sum = 0
            for n in 1...11 { sum += base[11 - n] * (n <= 6 ? n + 1 : n - 5) }
            let remainder = sum % 11
            return base.map(String.init).joined() + String(remainder <= 1 ? 0 : 11 - remainder)
        }
    }
}
