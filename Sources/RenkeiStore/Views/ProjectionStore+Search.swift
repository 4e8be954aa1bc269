public import RenkeiCore

extension ProjectionStore {
    /// Scores every stored person view with `search` (issue 18, `GET /v1/persons/search`) and
    /// returns the best `limit` hits: one pass over the `persons` table in which SQLite's JSON
    /// functions pick out the few fields compared (and, with a birth date, keep only that day's
    /// persons), so Swift folds short strings only and never parses a whole view.
    /// - Throws: ``StoreError``.
    public static func search(_ search: PersonSearch, limit: Int, in db: Database) throws -> [PersonSearch.Hit] {
        // https://www.sqlite.org/json1.html#jex — json_extract on the view's text; a JSON true is 1.
        let address = search.comparesAddress ? "json_extract(t, '$.address')" : "NULL"
        var sql = """
            SELECT uid, json_extract(t, '$.name'), json_extract(t, '$.name_kana'), json_extract(t, '$.birth_date'),
                json_extract(t, '$.protected'), \(address)
            FROM (SELECT uid, CAST(view AS TEXT) AS t FROM persons)
            WHERE json_extract(t, '$.merged_into') IS NULL
            """
        var values: [DatabaseValue] = []
        if let birthDate = search.birthDate {
            sql += " AND json_extract(t, '$.birth_date') = ?"
            values.append(.text(birthDate))
        }
        var hits: [PersonSearch.Hit] = []
        let statement = try db.prepare(sql)
        defer { statement.reset() }
        try statement.bind(values)
        while try statement.step() {
            guard let uid = statement.string(0) else { continue }
            let hit = search.hit(
                uid: uid, name: statement.string(1), kana: statement.string(2), birthDate: statement.string(3),
                isProtected: statement.int64(4) == 1, address: statement.string(5))
            if let hit {
                hits.append(hit)
                // Keep memory bounded on a broad query: trim to the best once the list grows.
                if hits.count >= limit * 8 + 64 { hits = PersonSearch.ranked(hits, limit: limit) }
            }
        }
        return PersonSearch.ranked(hits, limit: limit)
    }
}
