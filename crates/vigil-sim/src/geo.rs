//! Countries, cities, time zones (with daylight saving) and people's names.

use chrono::{Datelike, NaiveDate, Weekday};

/// Daylight-saving rule of a zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dst {
    None,
    /// European Union: last Sunday of March to last Sunday of October, at 01:00 UTC.
    Eu,
    /// United States and Canada: second Sunday of March to first Sunday of November, 02:00 local.
    Us,
    /// South-eastern Australia: first Sunday of October to first Sunday of April.
    AuSouth,
}

/// A fixed standard offset plus a daylight-saving rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tz {
    pub std_min: i32,
    pub dst: Dst,
}

const fn tz(std_min: i32, dst: Dst) -> Tz {
    Tz { std_min, dst }
}

fn nth_sunday(year: i32, month: u32, n: u32) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(year, month, 1).expect("valid date");
    let to_sunday = (7 - first.weekday().num_days_from_sunday()) % 7;
    first + chrono::Days::new((to_sunday + 7 * (n - 1)) as u64)
}

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .expect("valid date");
    let last = next.pred_opt().expect("valid date");
    let back = last.weekday().num_days_from_sunday();
    last - chrono::Days::new(back as u64)
}

fn epoch_ms(date: NaiveDate, minute_of_day: i64) -> i64 {
    let days = date.signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch"));
    days.num_days() * 86_400_000 + minute_of_day * 60_000
}

impl Tz {
    /// Offset from UTC in minutes at the UTC instant `ms`.
    pub fn offset_at(&self, ms: i64) -> i32 {
        let year = crate::time::year_of(ms);
        let std = self.std_min as i64;
        let in_dst = match self.dst {
            Dst::None => false,
            Dst::Eu => {
                let start = epoch_ms(last_sunday(year, 3), 60);
                let end = epoch_ms(last_sunday(year, 10), 60);
                ms >= start && ms < end
            }
            Dst::Us => {
                let start = epoch_ms(nth_sunday(year, 3, 2), 120 - std);
                let end = epoch_ms(nth_sunday(year, 11, 1), 120 - std - 60);
                ms >= start && ms < end
            }
            Dst::AuSouth => {
                let end = epoch_ms(nth_sunday(year, 4, 1), 120 - std);
                let start = epoch_ms(nth_sunday(year, 10, 1), 120 - std);
                ms < end || ms >= start
            }
        };
        self.std_min + if in_dst { 60 } else { 0 }
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct City {
    pub name: &'static str,
    pub state: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub tz: Tz,
}

const fn city(name: &'static str, state: &'static str, lat: f64, lon: f64, tz: Tz) -> City {
    City {
        name,
        state,
        lat,
        lon,
        tz,
    }
}

/// Which list of names people from a country get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Names {
    English,
    German,
    French,
    Dutch,
    Spanish,
    Japanese,
    Indian,
    Chinese,
}

#[derive(Debug)]
pub(crate) struct Country {
    pub code: &'static str,
    pub cities: &'static [City],
    pub names: Names,
}

const UTC0_EU: Tz = tz(0, Dst::Eu);
const CET: Tz = tz(60, Dst::Eu);
const EET: Tz = tz(120, Dst::Eu);

pub(crate) static COUNTRIES: &[Country] = &[
    Country {
        code: "US",
        cities: &[
            city("New York", "New York", 40.7128, -74.0060, tz(-300, Dst::Us)),
            city("Chicago", "Illinois", 41.8781, -87.6298, tz(-360, Dst::Us)),
            city(
                "San Francisco",
                "California",
                37.7749,
                -122.4194,
                tz(-480, Dst::Us),
            ),
            city(
                "Seattle",
                "Washington",
                47.6062,
                -122.3321,
                tz(-480, Dst::Us),
            ),
            city("Atlanta", "Georgia", 33.7490, -84.3880, tz(-300, Dst::Us)),
        ],
        names: Names::English,
    },
    Country {
        code: "GB",
        cities: &[
            city("London", "England", 51.5074, -0.1278, UTC0_EU),
            city("Manchester", "England", 53.4808, -2.2426, UTC0_EU),
            city("Edinburgh", "Scotland", 55.9533, -3.1883, UTC0_EU),
        ],
        names: Names::English,
    },
    Country {
        code: "DE",
        cities: &[
            city("Frankfurt am Main", "Hessen", 50.1109, 8.6821, CET),
            city("Berlin", "Berlin", 52.5200, 13.4050, CET),
            city("Munich", "Bayern", 48.1351, 11.5820, CET),
        ],
        names: Names::German,
    },
    Country {
        code: "FR",
        cities: &[
            city("Paris", "Ile-de-France", 48.8566, 2.3522, CET),
            city("Lyon", "Auvergne-Rhone-Alpes", 45.7640, 4.8357, CET),
        ],
        names: Names::French,
    },
    Country {
        code: "NL",
        cities: &[
            city("Amsterdam", "Noord-Holland", 52.3676, 4.9041, CET),
            city("Rotterdam", "Zuid-Holland", 51.9244, 4.4777, CET),
        ],
        names: Names::Dutch,
    },
    Country {
        code: "ES",
        cities: &[
            city("Madrid", "Madrid", 40.4168, -3.7038, CET),
            city("Barcelona", "Catalonia", 41.3874, 2.1686, CET),
        ],
        names: Names::Spanish,
    },
    Country {
        code: "IE",
        cities: &[city("Dublin", "Dublin", 53.3498, -6.2603, UTC0_EU)],
        names: Names::English,
    },
    Country {
        code: "AU",
        cities: &[
            city(
                "Sydney",
                "New South Wales",
                -33.8688,
                151.2093,
                tz(600, Dst::AuSouth),
            ),
            city(
                "Melbourne",
                "Victoria",
                -37.8136,
                144.9631,
                tz(600, Dst::AuSouth),
            ),
        ],
        names: Names::English,
    },
    Country {
        code: "SG",
        cities: &[city(
            "Singapore",
            "Singapore",
            1.3521,
            103.8198,
            tz(480, Dst::None),
        )],
        names: Names::Chinese,
    },
    Country {
        code: "CA",
        cities: &[
            city("Toronto", "Ontario", 43.6532, -79.3832, tz(-300, Dst::Us)),
            city(
                "Vancouver",
                "British Columbia",
                49.2827,
                -123.1207,
                tz(-480, Dst::Us),
            ),
        ],
        names: Names::English,
    },
    Country {
        code: "IN",
        cities: &[
            city(
                "Bengaluru",
                "Karnataka",
                12.9716,
                77.5946,
                tz(330, Dst::None),
            ),
            city(
                "Mumbai",
                "Maharashtra",
                19.0760,
                72.8777,
                tz(330, Dst::None),
            ),
        ],
        names: Names::Indian,
    },
    Country {
        code: "JP",
        cities: &[
            city("Tokyo", "Tokyo", 35.6762, 139.6503, tz(540, Dst::None)),
            city("Osaka", "Osaka", 34.6937, 135.5023, tz(540, Dst::None)),
        ],
        names: Names::Japanese,
    },
    Country {
        code: "ZA",
        cities: &[
            city(
                "Johannesburg",
                "Gauteng",
                -26.2041,
                28.0473,
                tz(120, Dst::None),
            ),
            city(
                "Cape Town",
                "Western Cape",
                -33.9249,
                18.4241,
                tz(120, Dst::None),
            ),
        ],
        names: Names::English,
    },
    Country {
        code: "NG",
        cities: &[
            city("Lagos", "Lagos", 6.5244, 3.3792, tz(60, Dst::None)),
            city("Abuja", "FCT", 9.0765, 7.3986, tz(60, Dst::None)),
        ],
        names: Names::English,
    },
    Country {
        code: "VN",
        cities: &[
            city("Hanoi", "Ha Noi", 21.0285, 105.8542, tz(420, Dst::None)),
            city(
                "Ho Chi Minh City",
                "Ho Chi Minh",
                10.8231,
                106.6297,
                tz(420, Dst::None),
            ),
        ],
        names: Names::English,
    },
    Country {
        code: "RU",
        cities: &[
            city("Moscow", "Moscow", 55.7558, 37.6173, tz(180, Dst::None)),
            city(
                "Saint Petersburg",
                "St.-Petersburg",
                59.9311,
                30.3609,
                tz(180, Dst::None),
            ),
        ],
        names: Names::English,
    },
    Country {
        code: "CN",
        cities: &[
            city(
                "Shanghai",
                "Shanghai",
                31.2304,
                121.4737,
                tz(480, Dst::None),
            ),
            city("Beijing", "Beijing", 39.9042, 116.4074, tz(480, Dst::None)),
            city(
                "Shenzhen",
                "Guangdong",
                22.5431,
                114.0579,
                tz(480, Dst::None),
            ),
        ],
        names: Names::Chinese,
    },
    Country {
        code: "BR",
        cities: &[
            city(
                "Sao Paulo",
                "Sao Paulo",
                -23.5505,
                -46.6333,
                tz(-180, Dst::None),
            ),
            city(
                "Rio de Janeiro",
                "Rio de Janeiro",
                -22.9068,
                -43.1729,
                tz(-180, Dst::None),
            ),
        ],
        names: Names::Spanish,
    },
    Country {
        code: "ID",
        cities: &[city(
            "Jakarta",
            "Jakarta",
            -6.2088,
            106.8456,
            tz(420, Dst::None),
        )],
        names: Names::English,
    },
    Country {
        code: "UA",
        cities: &[city("Kyiv", "Kyiv City", 50.4501, 30.5234, EET)],
        names: Names::English,
    },
    Country {
        code: "TR",
        cities: &[city(
            "Istanbul",
            "Istanbul",
            41.0082,
            28.9784,
            tz(180, Dst::None),
        )],
        names: Names::English,
    },
    Country {
        code: "AE",
        cities: &[city("Dubai", "Dubai", 25.2048, 55.2708, tz(240, Dst::None))],
        names: Names::English,
    },
    Country {
        code: "EG",
        cities: &[city("Cairo", "Cairo", 30.0444, 31.2357, tz(120, Dst::None))],
        names: Names::English,
    },
    Country {
        code: "KE",
        cities: &[city(
            "Nairobi",
            "Nairobi",
            -1.2921,
            36.8219,
            tz(180, Dst::None),
        )],
        names: Names::English,
    },
    Country {
        code: "GH",
        cities: &[city(
            "Accra",
            "Greater Accra",
            5.6037,
            -0.1870,
            tz(0, Dst::None),
        )],
        names: Names::English,
    },
    Country {
        code: "PK",
        cities: &[city(
            "Karachi",
            "Sindh",
            24.8607,
            67.0011,
            tz(300, Dst::None),
        )],
        names: Names::Indian,
    },
    Country {
        code: "PH",
        cities: &[city(
            "Manila",
            "Metro Manila",
            14.5995,
            120.9842,
            tz(480, Dst::None),
        )],
        names: Names::English,
    },
    Country {
        code: "MX",
        cities: &[city(
            "Mexico City",
            "Ciudad de Mexico",
            19.4326,
            -99.1332,
            tz(-360, Dst::None),
        )],
        names: Names::Spanish,
    },
    Country {
        code: "AR",
        cities: &[city(
            "Buenos Aires",
            "Buenos Aires",
            -34.6037,
            -58.3816,
            tz(-180, Dst::None),
        )],
        names: Names::Spanish,
    },
    Country {
        code: "MY",
        cities: &[city(
            "Kuala Lumpur",
            "Kuala Lumpur",
            3.1390,
            101.6869,
            tz(480, Dst::None),
        )],
        names: Names::Chinese,
    },
    Country {
        code: "TH",
        cities: &[city(
            "Bangkok",
            "Bangkok",
            13.7563,
            100.5018,
            tz(420, Dst::None),
        )],
        names: Names::English,
    },
    Country {
        code: "IT",
        cities: &[
            city("Milan", "Lombardy", 45.4642, 9.1900, CET),
            city("Rome", "Lazio", 41.9028, 12.4964, CET),
        ],
        names: Names::Spanish,
    },
    Country {
        code: "PL",
        cities: &[city("Warsaw", "Mazowieckie", 52.2297, 21.0122, CET)],
        names: Names::English,
    },
    Country {
        code: "RO",
        cities: &[city("Bucharest", "Bucuresti", 44.4268, 26.1025, EET)],
        names: Names::English,
    },
    Country {
        code: "MA",
        cities: &[city(
            "Casablanca",
            "Casablanca-Settat",
            33.5731,
            -7.5898,
            tz(60, Dst::None),
        )],
        names: Names::French,
    },
    Country {
        code: "SE",
        cities: &[city("Stockholm", "Stockholm", 59.3293, 18.0686, CET)],
        names: Names::English,
    },
    Country {
        code: "CH",
        cities: &[city("Zurich", "Zurich", 47.3769, 8.5417, CET)],
        names: Names::German,
    },
];

pub(crate) fn country(code: &str) -> &'static Country {
    COUNTRIES
        .iter()
        .find(|c| c.code == code)
        .unwrap_or_else(|| panic!("country {code} missing from the table"))
}

/// Countries an organisation can have offices in.
pub(crate) const OFFICE_COUNTRIES: &[&str] = &[
    "US", "GB", "DE", "FR", "NL", "ES", "IE", "AU", "SG", "CA", "IN", "JP", "ZA",
];

/// Business-travel destinations, with rough weights. Includes countries attackers are often
/// seen from, because people do travel there.
pub(crate) const TRAVEL_DESTINATIONS: &[(&str, u32)] = &[
    ("US", 14),
    ("GB", 10),
    ("DE", 8),
    ("FR", 6),
    ("NL", 5),
    ("SG", 5),
    ("JP", 4),
    ("AE", 5),
    ("IN", 5),
    ("CN", 4),
    ("BR", 3),
    ("NG", 3),
    ("VN", 3),
    ("ZA", 3),
    ("MX", 2),
    ("IT", 3),
    ("ES", 3),
    ("TR", 2),
    ("KE", 2),
    ("PL", 2),
    ("RU", 1),
    ("ID", 2),
    ("PH", 1),
    ("TH", 2),
    ("MY", 1),
    ("EG", 1),
    ("GH", 1),
    ("AR", 1),
    ("CA", 3),
    ("AU", 2),
];

/// Countries attackers' residential and mobile addresses come from.
pub(crate) const ATTACKER_COUNTRIES: &[&str] = &[
    "NG", "VN", "RU", "CN", "BR", "ID", "UA", "TR", "RO", "PK", "EG", "MA", "GH", "KE", "PH",
];

pub(crate) fn weekday_of(ms: i64) -> Weekday {
    // 1970-01-01 was a Thursday.
    let days = ms.div_euclid(86_400_000);
    match days.rem_euclid(7) {
        0 => Weekday::Thu,
        1 => Weekday::Fri,
        2 => Weekday::Sat,
        3 => Weekday::Sun,
        4 => Weekday::Mon,
        5 => Weekday::Tue,
        _ => Weekday::Wed,
    }
}

pub(crate) fn names(set: Names) -> (&'static [&'static str], &'static [&'static str]) {
    match set {
        Names::English => (EN_FIRST, EN_LAST),
        Names::German => (DE_FIRST, DE_LAST),
        Names::French => (FR_FIRST, FR_LAST),
        Names::Dutch => (NL_FIRST, NL_LAST),
        Names::Spanish => (ES_FIRST, ES_LAST),
        Names::Japanese => (JA_FIRST, JA_LAST),
        Names::Indian => (IN_FIRST, IN_LAST),
        Names::Chinese => (ZH_FIRST, ZH_LAST),
    }
}

const EN_FIRST: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Christopher",
    "Nancy",
    "Daniel",
    "Lisa",
    "Matthew",
    "Betty",
    "Anthony",
    "Margaret",
    "Mark",
    "Sandra",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Paul",
    "Emily",
    "Andrew",
    "Donna",
    "Joshua",
    "Michelle",
    "Kenneth",
    "Carol",
    "Kevin",
    "Amanda",
    "Brian",
    "Melissa",
    "George",
    "Deborah",
    "Timothy",
    "Stephanie",
    "Ronald",
    "Rebecca",
    "Edward",
    "Sharon",
    "Jason",
    "Laura",
    "Jeffrey",
    "Cynthia",
    "Ryan",
    "Kathleen",
    "Jacob",
    "Amy",
    "Gary",
    "Angela",
    "Nicholas",
    "Shirley",
    "Eric",
    "Anna",
    "Jonathan",
    "Brenda",
    "Stephen",
    "Pamela",
    "Larry",
    "Emma",
    "Justin",
    "Nicole",
    "Scott",
    "Helen",
    "Oliver",
    "Charlotte",
    "Harry",
    "Sophie",
    "Jack",
    "Grace",
    "Liam",
    "Chloe",
    "Noah",
    "Olivia",
    "Ethan",
    "Isla",
    "Samuel",
    "Hannah",
    "Benjamin",
    "Lucy",
    "Alexander",
    "Ella",
    "Henry",
    "Amelia",
    "Owen",
    "Megan",
];

const EN_LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Evans",
    "Turner",
    "Phillips",
    "Parker",
    "Edwards",
    "Collins",
    "Stewart",
    "Morris",
    "Murphy",
    "Cook",
    "Rogers",
    "Morgan",
    "Cooper",
    "Peterson",
    "Reed",
    "Bailey",
    "Bell",
    "Kelly",
    "Howard",
    "Ward",
    "Cox",
    "Richardson",
    "Wood",
    "Watson",
    "Brooks",
    "Bennett",
    "Gray",
    "James",
    "Hughes",
    "Price",
    "Sanders",
    "Patel",
    "Myers",
    "Long",
    "Ross",
    "Foster",
    "Powell",
    "Jenkins",
    "Perry",
    "Russell",
    "Sullivan",
    "Fisher",
    "Hamilton",
    "Graham",
    "Wallace",
    "Cole",
    "West",
    "Jordan",
    "Reynolds",
    "Ellis",
    "Harrison",
    "Gibson",
    "Marshall",
    "Owens",
    "Kennedy",
    "Walsh",
    "Byrne",
    "OConnor",
    "Doyle",
];

const DE_FIRST: &[&str] = &[
    "Lukas",
    "Anna",
    "Leon",
    "Lea",
    "Finn",
    "Hannah",
    "Jonas",
    "Lena",
    "Paul",
    "Sophie",
    "Felix",
    "Marie",
    "Maximilian",
    "Laura",
    "Elias",
    "Julia",
    "Tim",
    "Katharina",
    "Jan",
    "Sarah",
    "Stefan",
    "Sabine",
    "Andreas",
    "Claudia",
    "Thomas",
    "Monika",
    "Markus",
    "Petra",
    "Michael",
    "Susanne",
    "Tobias",
    "Christina",
    "Florian",
    "Nicole",
    "Sebastian",
    "Melanie",
];

const DE_LAST: &[&str] = &[
    "Mueller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schroeder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krueger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Meier",
    "Lehmann",
    "Schmid",
    "Schulze",
    "Maier",
    "Koehler",
    "Herrmann",
    "Koenig",
    "Walter",
];

const FR_FIRST: &[&str] = &[
    "Louis", "Emma", "Gabriel", "Jade", "Jules", "Louise", "Adam", "Alice", "Arthur", "Chloe",
    "Hugo", "Lina", "Nathan", "Manon", "Thomas", "Camille", "Nicolas", "Julie", "Pierre", "Claire",
    "Antoine", "Sophie", "Julien", "Celine", "Mathieu", "Aurelie", "Francois", "Isabelle",
    "Olivier", "Nathalie",
];

const FR_LAST: &[&str] = &[
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefevre", "Faure", "Andre",
];

const NL_FIRST: &[&str] = &[
    "Daan", "Emma", "Sem", "Julia", "Lucas", "Mila", "Levi", "Tess", "Finn", "Sophie", "Milan",
    "Zoe", "Jesse", "Sara", "Bram", "Anna", "Ruben", "Eva", "Thijs", "Lotte", "Jeroen", "Marieke",
    "Sander", "Femke",
];

const NL_LAST: &[&str] = &[
    "deJong",
    "Jansen",
    "deVries",
    "vandenBerg",
    "vanDijk",
    "Bakker",
    "Janssen",
    "Visser",
    "Smit",
    "Meijer",
    "deBoer",
    "Mulder",
    "deGroot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "vanLeeuwen",
    "Dekker",
    "Brouwer",
    "deWit",
    "Dijkstra",
    "Smits",
    "deGraaf",
];

const ES_FIRST: &[&str] = &[
    "Hugo",
    "Lucia",
    "Martin",
    "Sofia",
    "Daniel",
    "Martina",
    "Pablo",
    "Maria",
    "Alejandro",
    "Julia",
    "Lucas",
    "Paula",
    "Alvaro",
    "Valeria",
    "Adrian",
    "Emma",
    "Mateo",
    "Daniela",
    "David",
    "Carla",
    "Javier",
    "Elena",
    "Carlos",
    "Laura",
    "Miguel",
    "Ana",
    "Diego",
    "Sara",
    "Jorge",
    "Marta",
];

const ES_LAST: &[&str] = &[
    "Garcia",
    "Rodriguez",
    "Gonzalez",
    "Fernandez",
    "Lopez",
    "Martinez",
    "Sanchez",
    "Perez",
    "Gomez",
    "Martin",
    "Jimenez",
    "Ruiz",
    "Hernandez",
    "Diaz",
    "Moreno",
    "Munoz",
    "Alvarez",
    "Romero",
    "Alonso",
    "Gutierrez",
    "Navarro",
    "Torres",
    "Dominguez",
    "Vazquez",
    "Ramos",
    "Gil",
    "Ramirez",
    "Serrano",
    "Blanco",
    "Molina",
];

const JA_FIRST: &[&str] = &[
    "Haruto", "Yui", "Sota", "Hina", "Yuto", "Aoi", "Riku", "Sakura", "Hiroshi", "Yuki", "Takashi",
    "Akiko", "Kenji", "Naomi", "Daiki", "Emi", "Shota", "Mai", "Kazuki", "Rin",
];

const JA_LAST: &[&str] = &[
    "Sato",
    "Suzuki",
    "Takahashi",
    "Tanaka",
    "Watanabe",
    "Ito",
    "Yamamoto",
    "Nakamura",
    "Kobayashi",
    "Kato",
    "Yoshida",
    "Yamada",
    "Sasaki",
    "Yamaguchi",
    "Matsumoto",
    "Inoue",
    "Kimura",
    "Hayashi",
    "Shimizu",
    "Mori",
];

const IN_FIRST: &[&str] = &[
    "Aarav", "Ananya", "Vihaan", "Diya", "Arjun", "Priya", "Rahul", "Sneha", "Rohan", "Pooja",
    "Aditya", "Kavya", "Vikram", "Neha", "Sanjay", "Divya", "Amit", "Anjali", "Karan", "Meera",
    "Ravi", "Lakshmi", "Suresh", "Deepa",
];

const IN_LAST: &[&str] = &[
    "Sharma", "Verma", "Gupta", "Patel", "Singh", "Kumar", "Reddy", "Iyer", "Nair", "Rao", "Mehta",
    "Shah", "Joshi", "Desai", "Kapoor", "Malhotra", "Chopra", "Bose", "Das", "Menon", "Pillai",
    "Agarwal", "Bhat", "Kulkarni",
];

const ZH_FIRST: &[&str] = &[
    "Wei", "Jing", "Hao", "Mei", "Jun", "Xin", "Ming", "Li", "Yong", "Hui", "Jie", "Yan", "Kai",
    "Ling", "Chen", "Ying", "Bo", "Lan", "Zhi", "Qing", "Daniel", "Rachel", "Marcus", "Grace",
];

const ZH_LAST: &[&str] = &[
    "Tan", "Lim", "Lee", "Ng", "Ong", "Wong", "Goh", "Chua", "Chan", "Koh", "Teo", "Ang", "Yeo",
    "Tay", "Ho", "Low", "Toh", "Sim", "Chong", "Chia", "Wang", "Zhang", "Liu", "Chen",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dst_rules_switch_on_the_right_days() {
        let london = tz(0, Dst::Eu);
        // 2022-03-27 is the last Sunday of March; the switch is at 01:00 UTC.
        let before = epoch_ms(NaiveDate::from_ymd_opt(2022, 3, 27).unwrap(), 59);
        let after = epoch_ms(NaiveDate::from_ymd_opt(2022, 3, 27).unwrap(), 61);
        assert_eq!(london.offset_at(before), 0);
        assert_eq!(london.offset_at(after), 60);
        let ny = tz(-300, Dst::Us);
        assert_eq!(
            ny.offset_at(epoch_ms(NaiveDate::from_ymd_opt(2022, 2, 1).unwrap(), 0)),
            -300
        );
        assert_eq!(
            ny.offset_at(epoch_ms(NaiveDate::from_ymd_opt(2022, 7, 1).unwrap(), 0)),
            -240
        );
        let syd = tz(600, Dst::AuSouth);
        assert_eq!(
            syd.offset_at(epoch_ms(NaiveDate::from_ymd_opt(2022, 2, 1).unwrap(), 0)),
            660
        );
        assert_eq!(
            syd.offset_at(epoch_ms(NaiveDate::from_ymd_opt(2022, 7, 1).unwrap(), 0)),
            600
        );
    }

    #[test]
    fn every_listed_country_has_addresses() {
        let codes = TRAVEL_DESTINATIONS
            .iter()
            .map(|(c, _)| *c)
            .chain(OFFICE_COUNTRIES.iter().copied())
            .chain(ATTACKER_COUNTRIES.iter().copied());
        for c in codes {
            let c = country(c);
            assert!(
                !crate::ipdb::consumer_isps(c.code).is_empty(),
                "no consumer ranges for {}",
                c.code
            );
        }
        for c in OFFICE_COUNTRIES {
            assert!(!crate::ipdb::office_isps(c).is_empty());
            assert!(!crate::ipdb::mobile_isps(c).is_empty());
        }
    }

    #[test]
    fn weekday_matches_chrono() {
        let d = NaiveDate::from_ymd_opt(2022, 1, 17).unwrap();
        assert_eq!(weekday_of(epoch_ms(d, 600)), Weekday::Mon);
    }
}
