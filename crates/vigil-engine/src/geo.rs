//! Country names and approximate centroids (for explanations and travel speed). Countries not in
//! the table are named by their code and have no position.

/// (code, name, latitude, longitude)
const COUNTRIES: &[(&str, &str, f32, f32)] = &[
    ("AE", "the United Arab Emirates", 24.0, 54.0),
    ("AR", "Argentina", -34.0, -64.0),
    ("AT", "Austria", 47.3, 13.3),
    ("AU", "Australia", -25.0, 134.0),
    ("BD", "Bangladesh", 24.0, 90.0),
    ("BE", "Belgium", 50.8, 4.4),
    ("BG", "Bulgaria", 42.7, 25.5),
    ("BR", "Brazil", -10.0, -52.0),
    ("BY", "Belarus", 53.7, 27.9),
    ("CA", "Canada", 56.0, -96.0),
    ("CH", "Switzerland", 46.8, 8.2),
    ("CL", "Chile", -33.0, -71.0),
    ("CM", "Cameroon", 6.0, 12.0),
    ("CN", "China", 35.0, 103.0),
    ("CO", "Colombia", 4.0, -73.0),
    ("CZ", "Czechia", 49.8, 15.5),
    ("DE", "Germany", 51.2, 10.4),
    ("DK", "Denmark", 56.0, 10.0),
    ("DZ", "Algeria", 28.0, 2.6),
    ("EE", "Estonia", 58.6, 25.0),
    ("EG", "Egypt", 26.8, 30.8),
    ("ES", "Spain", 40.4, -3.7),
    ("FI", "Finland", 64.0, 26.0),
    ("FR", "France", 46.6, 2.2),
    ("GB", "the United Kingdom", 54.0, -2.0),
    ("GH", "Ghana", 7.9, -1.0),
    ("GR", "Greece", 39.1, 21.8),
    ("HK", "Hong Kong", 22.3, 114.2),
    ("HR", "Croatia", 45.1, 15.2),
    ("HU", "Hungary", 47.2, 19.5),
    ("ID", "Indonesia", -2.5, 118.0),
    ("IE", "Ireland", 53.4, -8.2),
    ("IL", "Israel", 31.0, 34.8),
    ("IN", "India", 21.0, 78.0),
    ("IQ", "Iraq", 33.2, 43.7),
    ("IR", "Iran", 32.4, 53.7),
    ("IS", "Iceland", 65.0, -18.0),
    ("IT", "Italy", 42.8, 12.6),
    ("JP", "Japan", 36.2, 138.3),
    ("KE", "Kenya", 0.0, 38.0),
    ("KP", "North Korea", 40.3, 127.5),
    ("KR", "South Korea", 36.5, 127.9),
    ("KZ", "Kazakhstan", 48.0, 67.0),
    ("LT", "Lithuania", 55.2, 23.9),
    ("LU", "Luxembourg", 49.8, 6.1),
    ("LV", "Latvia", 56.9, 24.6),
    ("MA", "Morocco", 31.8, -7.1),
    ("MD", "Moldova", 47.4, 28.4),
    ("MX", "Mexico", 23.6, -102.5),
    ("MY", "Malaysia", 4.2, 102.0),
    ("NG", "Nigeria", 9.1, 8.7),
    ("NL", "the Netherlands", 52.1, 5.3),
    ("NO", "Norway", 61.0, 9.0),
    ("NZ", "New Zealand", -41.0, 174.0),
    ("PE", "Peru", -9.2, -75.0),
    ("PH", "the Philippines", 12.9, 121.8),
    ("PK", "Pakistan", 30.4, 69.3),
    ("PL", "Poland", 52.0, 19.1),
    ("PT", "Portugal", 39.4, -8.2),
    ("RO", "Romania", 45.9, 25.0),
    ("RS", "Serbia", 44.0, 21.0),
    ("RU", "Russia", 61.5, 105.3),
    ("SA", "Saudi Arabia", 23.9, 45.1),
    ("SE", "Sweden", 60.1, 18.6),
    ("SG", "Singapore", 1.35, 103.8),
    ("SI", "Slovenia", 46.1, 14.9),
    ("SK", "Slovakia", 48.7, 19.7),
    ("SN", "Senegal", 14.5, -14.5),
    ("TH", "Thailand", 15.9, 101.0),
    ("TN", "Tunisia", 34.0, 9.5),
    ("TR", "Turkey", 39.0, 35.2),
    ("TW", "Taiwan", 23.7, 121.0),
    ("UA", "Ukraine", 48.4, 31.2),
    ("US", "the United States", 39.8, -98.6),
    ("UY", "Uruguay", -32.5, -55.8),
    ("VE", "Venezuela", 6.4, -66.6),
    ("VN", "Vietnam", 14.1, 108.3),
    ("ZA", "South Africa", -30.6, 22.9),
];

fn find(code: &str) -> Option<&'static (&'static str, &'static str, f32, f32)> {
    COUNTRIES.iter().find(|c| c.0.eq_ignore_ascii_case(code))
}

/// "Nigeria", "the United Kingdom"; the code itself when unknown.
pub fn country_name(code: &str) -> String {
    find(code).map_or_else(|| code.to_string(), |c| c.1.to_string())
}

/// Great-circle distance between two countries' centroids, in km.
pub fn distance_km(a: &str, b: &str) -> Option<f32> {
    if a.eq_ignore_ascii_case(b) {
        return Some(0.0);
    }
    let (a, b) = (find(a)?, find(b)?);
    let (la1, lo1, la2, lo2) = (
        a.2.to_radians(),
        a.3.to_radians(),
        b.2.to_radians(),
        b.3.to_radians(),
    );
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    Some(2.0 * 6371.0 * h.sqrt().asin())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_plausible() {
        let d = distance_km("GB", "NG").unwrap();
        assert!((4500.0..5500.0).contains(&d), "{d}");
        assert_eq!(distance_km("FR", "fr"), Some(0.0));
        assert!(distance_km("GB", "XX").is_none());
        assert_eq!(country_name("ng"), "Nigeria");
        assert_eq!(country_name("XX"), "XX");
    }
}
