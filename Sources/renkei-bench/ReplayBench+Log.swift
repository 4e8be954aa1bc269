import RenkeiCore

extension ReplayBench {
    /// The synthetic municipality's event log, as JSONL batches.
    enum SyntheticLog {
        /// About `events` envelopes for `residents` residents, in batches of `batch` lines:
        /// every resident registered (with a valid 個人番号 for adults), tax assessments by 宛名番号
        /// for adults, library patrons without one (one record per 10 residents, matched), childcare
        /// application + enrolment + fee for young children, then 転居, 誤記修正, 更正 and card updates
        /// spread over the population until the count is reached.
        static func batches(residents count: Int, events: Int, batch: Int) -> [[String]] {
            var population = SyntheticPopulation(residents: count)
            let patrons = population.records(count: max(1, count / 10), residentShare: 0.8)
            var lines: [String] = []
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
            func atena(_ index: Int) -> String { pad(index + 1, 9) }
            var children: [Int] = []
            for (index, resident) in population.residents.enumerated() {
                var data = JSONObject()
                data["reason"] = "move_in"
                for key in ["name", "name_kana", "birth_date", "sex", "address"] {
                    if let value = resident.identity[key] { data[key] = value }
                }
                data["household_no"] = .string(resident.household)
                data["relationship"] = index > 0 && population.residents[index - 1].household == resident.household ? "世帯員" : "世帯主"
                let year = Int(resident.identity["birth_date"]?.stringValue?.prefix(4) ?? "2000") ?? 2000
                if year < 2008 { data["my_number"] = .string(myNumber(index)) }
                if year >= 2020 { children.append(index) }
                lines.append(line("resident", "R-\(index)", "resident.registered", atena(index), data))
            }
            for (index, resident) in population.residents.enumerated() {
                let year = Int(resident.identity["birth_date"]?.stringValue?.prefix(4) ?? "2000") ?? 2000
                guard year < 2007 else { continue }
                let taxable = index % 4 != 0
                lines.append(line("tax", "T-\(index)", "tax.assessed", "TX-\(index)", [
                    "fiscal_year": 2025, "taxable": .bool(taxable), "income_levy": .integer(taxable ? Int64(50_000 + index % 200_000) : 0),
                    "per_capita_levy": .integer(taxable ? 5000 : 0), "atena_no": .string(atena(index)),
                ]))
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
                let subject = "CH-\(child)"
                lines.append(line("childcare", "C-\(child)-a", "childcare.applied", subject, [
                    "child": ["atena_no": .string(atena(child)), "name": identity["name"] ?? "", "birth_date": identity["birth_date"] ?? ""],
                    "guardians": [], "preferred_facilities": ["F-101"],
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
            while lines.count < events {
                serial += 1
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
                    lines.append(line("tax", "TC-\(serial)", "tax.corrected", "TX-\(index)", [
                        "fiscal_year": 2025, "taxable": .bool(next(2) == 0), "income_levy": .integer(Int64(next(300_000))),
                        "per_capita_levy": 5000, "atena_no": .string(atena(index)),
                    ]))
                default:
                    let patron = next(patrons.count)
                    lines.append(line("library", "LU-\(serial)", "library.patron_updated", "LIB-\(patron)", [
                        "postal_code": .string("102-00\(10 + next(80))"),
                    ]))
                }
            }
            return stride(from: 0, to: lines.count, by: batch).map { Array(lines[$0..<min($0 + batch, lines.count)]) }
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
