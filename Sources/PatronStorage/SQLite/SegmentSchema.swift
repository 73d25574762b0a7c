/// v23, v24: live customers counted per segment (country, language, automatic and custom group,
/// newsletter, folded city), kept by triggers on `customers`. A search whose conditions are all
/// segment fields takes its total from here: patron-bench search, 1M customers, country + group
/// + newsletter counted 21,000 of a country's 111,000 customers in 80–100 ms, each looked up in
/// two more indexes; marketing lists are drawn on exactly these fields; a city with newsletter
/// yes (a local offer's list) counted 18,500 of 55,600 customers in 25 ms. Cities are few next
/// to customers; zips are not, and stay out. Each customer write that changes one of them, or
/// liveness, moves one count (a few hundred rows in all).
///
/// NULLs are stored as '' (country, language, city), -1 (newsletter) and 0 (custom group),
/// because a primary key holds NULLs apart and the counts would not add up.
enum SegmentSchema {
    static let table = "customer_segments"
}
