// MARK: - Merges and splits (contract §3: a link that joins two uids keeps the lower)

extension Projection {
    /// The live uid a uid stands for now (following `merged_into`).
    public func resolve(_ uid: String) -> String {
        var current = uid
        var steps = 0
        while let next = persons[current]?.mergedInto, steps < 64 {
            current = next
            steps += 1
        }
        return current
    }

    /// Joins two uids: every record, 宛名番号 and guardian relation of the higher moves to the
    /// lower, and the higher answers with `merged_into` from now on.
    /// - Returns: the uid kept.
    @discardableResult
    mutating func merge(_ a: String, _ b: String, _ change: inout Change) -> String {
        let x = resolve(a)
        let y = resolve(b)
        guard x != y, let first = persons[x], let second = persons[y] else { return x }
        let (kept, retired) = x < y ? (x, y) : (y, x)
        let moving = kept == x ? second : first
        update(retired, &change) { person in
            person.records = []
            person.guardianOf = []
            person.atenaNo = nil
            person.otherAtenaNos = []
            person.mergedInto = kept
        }
        update(kept, &change) { person in
            person.records.append(contentsOf: moving.records)
            for atena in moving.atenaNumbers where !person.atenaNumbers.contains(atena) {
                if person.atenaNo == nil { person.atenaNo = atena } else { person.otherAtenaNos.append(atena) }
            }
            for child in moving.guardianOf where !person.guardianOf.contains(child) && child != kept {
                person.guardianOf.append(child)
            }
        }
        for record in moving.records where record.linkEndedLSN == nil {
            linkIndex[LinkKey(source: record.link.source, subject: record.link.subject)] = kept
        }
        for atena in moving.atenaNumbers { atenaIndex[atena] = kept }
        for child in moving.guardianOf {
            guardiansOfChild[child]?.removeAll { $0 == retired }
            if !(guardiansOfChild[child]?.contains(kept) ?? false) { guardiansOfChild[child, default: []].append(kept) }
        }
        // Guardians of the retired child now list the kept one.
        for guardian in guardiansOfChild.removeValue(forKey: retired) ?? [] {
            update(guardian, &change) { person in
                if let index = person.guardianOf.firstIndex(of: retired) {
                    if person.guardianOf.contains(kept) || guardian == kept {
                        person.guardianOf.remove(at: index)
                    } else {
                        person.guardianOf[index] = kept
                    }
                }
            }
            if guardian != kept, !(guardiansOfChild[kept]?.contains(guardian) ?? false) {
                guardiansOfChild[kept, default: []].append(guardian)
            }
        }
        matchIndex.set(Self.uidNumber(retired), nil)
        // Reviews that are settled by the merge are closed (an item about a link already made
        // names its own person and is settled only by an official).
        if let keptPerson = persons[kept] {
            for record in keptPerson.records where record.linkEndedLSN == nil {
                let key = LinkKey(source: record.link.source, subject: record.link.subject)
                guard let id = reviewByRecord[key], let item = reviews[id] else { continue }
                if !Self.asksAboutLink(item), item.candidates.contains(where: { resolve($0.uid) == kept }) {
                    closeReview(source: key.source, subject: key.subject)
                }
            }
        }
        change.merges.append(.init(retired: retired, kept: kept))
        return kept
    }

    /// Splits (`source`, `subject`) off `uid` into a new uid of its own.
    /// - Returns: the new uid, or `nil` when the record is not linked there or is its only record.
    @discardableResult
    mutating func unlink(_ uid: String, source: String, subject: String, _ change: inout Change) -> String? {
        let owner = resolve(uid)
        let key = LinkKey(source: source, subject: subject)
        guard linkIndex[key] == owner, let person = persons[owner], person.records.count > 1,
            let index = person.recordIndex(source: source, subject: subject)
        else { return nil }
        var record = person.records[index]
        update(owner, &change) { person in
            person.records.remove(at: index)
            if source == "resident" {
                if person.atenaNo == subject {
                    person.atenaNo = person.otherAtenaNos.isEmpty ? nil : person.otherAtenaNos.removeFirst()
                } else {
                    person.otherAtenaNos.removeAll { $0 == subject }
                }
            }
        }
        linkIndex[key] = nil
        let newUID = allocate(&change, atenaNo: source == "resident" ? subject : nil)
        record.link.method = source == "resident" ? "key" : "operator"
        record.link.score = nil
        record.link.reasons = []
        linkIndex[key] = newUID
        update(newUID, &change) { $0.records.append(record) }
        change.decided.insert(newUID)
        change.decided.insert(owner)
        change.unlinks.append(.init(uid: owner, newUID: newUID))
        return newUID
    }
}
