import Foundation
import Testing

@testable import RenkeiHTTP

@Suite struct RetryAfterTests {
    let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT

    @Test func absentOrEmptyIsNil() {
        #expect(RetryAfter.delay(header: nil, now: now) == nil)
        #expect(RetryAfter.delay(header: "", now: now) == nil)
        #expect(RetryAfter.delay(header: "   ", now: now) == nil)
    }

    @Test func deltaSeconds() {
        #expect(RetryAfter.delay(header: "120", now: now) == .seconds(120))
        #expect(RetryAfter.delay(header: " 0 ", now: now) == .zero)
    }

    @Test func invalidDeltaIsNil() {
        for text in ["-5", "+5", "1.5", "12a", "99999999999999999999999", "soon"] {
            #expect(RetryAfter.delay(header: text, now: now) == nil, "\(text)")
        }
    }

    @Test func imfFixdate() {
        #expect(RetryAfter.delay(header: "Sun, 06 Nov 1994 08:50:37 GMT", now: now) == .seconds(60))
        #expect(RetryAfter.delay(header: "Mon, 07 Nov 1994 08:49:37 GMT", now: now) == .seconds(86_400))
    }

    @Test func pastDateIsZero() {
        #expect(RetryAfter.delay(header: "Sat, 05 Nov 1994 08:49:37 GMT", now: now) == .zero)
        #expect(RetryAfter.delay(header: "Sun, 06 Nov 1994 08:49:37 GMT", now: now) == .zero)
    }

    @Test func obsoleteDateForms() {
        #expect(RetryAfter.delay(header: "Sunday, 06-Nov-94 08:50:37 GMT", now: now) == .seconds(60))
        #expect(RetryAfter.delay(header: "Sun Nov  6 08:50:37 1994", now: now) == .seconds(60))
    }

    @Test func fractionalSecondsRoundUp() {
        let later = now.addingTimeInterval(0.25)
        #expect(RetryAfter.delay(header: "Sun, 06 Nov 1994 08:50:37 GMT", now: later) == .milliseconds(59_750))
    }

    @Test func malformedDatesAreNil() {
        for text in [
            "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:49 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov +994 08:49:37 GMT",
        ] {
            #expect(RetryAfter.delay(header: text, now: now) == nil, "\(text)")
        }
    }

    @Test func leapDay() {
        #expect(HTTPDate.parse("Thu, 29 Feb 2024 00:00:00 GMT") == 1_709_164_800)
        #expect(HTTPDate.parse("Thu, 29 Feb 2023 00:00:00 GMT") == nil)
    }
}
