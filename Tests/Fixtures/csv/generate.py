# Generates the CP932 fixtures of the CSV spool tests (run once; the outputs are committed).
# 髙 appears as Python's cp932 codec writes it (0xEEE0, NEC-selected IBM extension) in
# library-cp932.csv, and as the IBM extension bytes 0xFBFC (髙) and 0xFAB1 (﨑) in library-cp932-ibm.csv.
rows = [
    "利用者番号,type,event_id,occurred_at,name,name_kana,birth_date,address",
    'L0001,library.patron_registered,L-1,2026-04-01T09:00:00+09:00,髙橋 一郎,タカハシ イチロウ,昭和64年1月7日,"東京都千代田区1-2-3"',
    'L0002,library.patron_registered,L-2,2026-04-01T09:00:00+09:00,山﨑 花子,ヤマサキ ハナコ,平成元年1月8日,"東京都千代田区4丁目5番6号, 101号室"',
    'L0003,library.patron_registered,L-3,2026-04-01T09:00:00+09:00,"髙木 ""タク""",タカギ タク,R6.4.1,"東京都千代田区7-8-9, 2F"',
    'L0004,library.patron_registered,L-4,2026-04-01T09:00:00+09:00,鈴木 次郎,スズキ ジロウ,昭和64年1月8日,東京都千代田区1-1',
    'L0005,library.patron_registered,L-5,2026-04-01T09:00:00+09:00,田中 〜 三郎,タナカ サブロウ,H02.01.15,東京都千代田区2-2',
    'L0006,library.patron_registered,L-6,2026-04-01T09:00:00+09:00,佐藤 四郎,サトウ シロウ,S50.1.1,"東京都\n千代田区3-3"',
]
open("library-cp932.csv", "wb").write("\r\n".join(rows).encode("cp932") + b"\r\n")

def c(text):
    return text.encode("cp932")

prefix = b",library.patron_registered,"
header = c("利用者番号,type,event_id,occurred_at,name,birth_date,address")
r1 = b"L0010" + prefix + b"L-10,2026-04-01T09:00:00+09:00," + b"\xfb\xfc" + c("橋 明,H31.4.30,東京都")
r2 = b"L0011" + prefix + b"L-11,2026-04-01T09:00:00+09:00," + c("山") + b"\xfa\xb1" + c(" 令,令和元年5月1日,東京都")
r3 = b"L0012" + prefix + b"L-12,2026-04-01T09:00:00+09:00,\x85\x41,R1.5.1," + c("東京都")
open("library-cp932-ibm.csv", "wb").write(b"\r\n".join([header, r1, r2, r3]) + b"\r\n")
