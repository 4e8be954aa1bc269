import RenkeiCore
import RenkeiStore
import Testing

/// What a shadow subscription holds (issue 17): the newest shadowed or delivered delta per person,
/// no household deltas, no uid a merge retired; the persons' subjects in a source.
@Suite struct OutboxShadowTests {
    @Test func heldSeqsAreTheNewestRecordedDeltaPerLivePerson() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        try StateSchema.migrate(db)
        try db.execute(
            """
            INSERT INTO outbox(seq, subscription, uid, delta_id, kind, version, lsn, fields, state, created_ms) VALUES
                (1, 's', 'U1', 's:U1:1', 'person.created', 1, 1, 'uid', 'shadowed', 0),
                (2, 's', 'U1', 's:U1:2', 'person.changed', 2, 2, 'uid', 'delivered', 0),
                (3, 's', 'U1', 's:U1:3', 'person.changed', 3, 3, 'uid', 'skipped', 0),
                (4, 's', 'U2', 's:U2:1', 'person.created', 1, 4, 'uid', 'shadowed', 0),
                (5, 's', 'H1', 's:H1:1', 'household.changed', 1, 4, 'household_no', 'shadowed', 0),
                (6, 's', 'U3', 's:U3:1', 'person.created', 1, 5, 'uid', 'shadowed', 0),
                (7, 's', 'U4', 's:U4:1', 'person.created', 1, 6, 'uid', 'pending', 0),
                (8, 't', 'U1', 't:U1:1', 'person.created', 1, 1, 'uid', 'shadowed', 0);
            INSERT INTO persons(uid, record, view) VALUES
                ('U1', X'7B7D', CAST('{"uid":"U1"}' AS BLOB)),
                ('U3', X'7B7D', CAST('{"uid":"U3","merged_into":"U1"}' AS BLOB));
            INSERT INTO person_links(source, subject, uid) VALUES
                ('resident', '000000002', 'U1'), ('resident', '000000001', 'U1'), ('library', 'L1', 'U2');
            """)
        #expect(try Outbox.heldSeqs(subscription: "s", in: db) == [2, 4])
        #expect(try Outbox.subjects(source: "resident", in: db) == ["U1": ["000000001", "000000002"]])
    }
}
