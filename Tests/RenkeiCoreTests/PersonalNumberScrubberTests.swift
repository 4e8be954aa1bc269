import RenkeiCore
import Testing

/// Issue 13: a receiver's text is stored and shown only with 12-digit runs masked.
@Suite struct PersonalNumberScrubberTests {
    @Test(arguments: [
        ("my_number 123456789018 rejected", "my_number ************ rejected"),
        (#"{"my_number":"123456789018"}"#, #"{"my_number":"************"}"#),
        ("番号１２３４５６７８９０１８は不正", "番号************は不正"),
        ("mixed 1234５６７８9018.", "mixed ************."),
        ("grouped 1234-5678-9018 and 1234 5678 9018", "grouped ****-****-**** and **** **** ****"),
        ("two 111122223333,444455556666", "two ************,************"),
        ("at the end 123456789018", "at the end ************"),
    ])
    func twelveDigitRunsAreMasked(text: String, expected: String) {
        #expect(PersonalNumberScrubber.scrub(text) == expected)
        #expect(PersonalNumberScrubber.containsCandidate(text))
    }

    @Test(arguments: [
        "corporate number 1234567890123 (13 digits)", "eleven 12345678901", "card 1234-5678-9012-3456",
        "phone 03-1234-5678", "HTTP 400: missing field x", "", "order 12-1234-5678-9012",
        "date 2026-12-06T23:21:11Z, lsn 4711",
    ])
    func otherTextIsLeftAsItIs(text: String) {
        #expect(PersonalNumberScrubber.scrub(text) == text)
        #expect(!PersonalNumberScrubber.containsCandidate(text))
    }
}
