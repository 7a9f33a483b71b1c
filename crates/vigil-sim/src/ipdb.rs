//! Public IP allocations per country and autonomous system.
//!
//! Every range below is a real allocation taken from the regional internet registries' data
//! (IP-to-ASN and IP-to-country tables), checked so that a country lookup of any address in it
//! returns the country listed. The simulator draws office, home, mobile, VPN, cloud and attacker
//! addresses from here, so that enrichment with a real IP database gives the intended country and
//! AS number.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// What kind of network a range belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetKind {
    /// Consumer broadband (homes, hotels).
    Residential,
    /// Business access (offices).
    Business,
    /// Mobile carrier (phones, tethering), usually behind carrier-grade NAT.
    Mobile,
    /// Cloud and hosting providers.
    Cloud,
    /// Hosting networks that commercial VPN services exit from.
    Vpn,
    /// Large mail providers (used for external mail servers).
    Mail,
}

/// One row of the table as written in the source.
#[derive(Clone, Copy, Debug)]
pub struct RawRange {
    pub country: &'static str,
    pub asn: u32,
    pub org: &'static str,
    pub kind: NetKind,
    /// First address of the range (inclusive).
    pub first: &'static str,
    /// Last address of the range (inclusive).
    pub last: &'static str,
}

const fn r(
    country: &'static str,
    asn: u32,
    org: &'static str,
    kind: NetKind,
    first: &'static str,
    last: &'static str,
) -> RawRange {
    RawRange {
        country,
        asn,
        org,
        kind,
        first,
        last,
    }
}

/// The table: country, AS number, AS organisation, kind, first and last address.
#[rustfmt::skip]
pub static RANGES: &[RawRange] = &[
    r("US", 7922, "Comcast Cable Communications", NetKind::Residential, "73.0.0.0", "73.255.255.255"),
    r("US", 7922, "Comcast Cable Communications", NetKind::Residential, "76.96.0.0", "76.159.255.255"),
    r("US", 7922, "Comcast Cable Communications", NetKind::Residential, "98.192.0.0", "98.255.255.255"),
    r("US", 7018, "AT&T Services", NetKind::Residential, "99.22.226.0", "99.75.191.255"),
    r("US", 7018, "AT&T Services", NetKind::Residential, "108.192.0.0", "108.229.7.255"),
    r("US", 7018, "AT&T Services", NetKind::Residential, "107.192.0.0", "107.223.255.255"),
    r("US", 701, "Verizon Business", NetKind::Business, "71.97.212.0", "71.127.255.255"),
    r("US", 701, "Verizon Business", NetKind::Business, "63.0.0.0", "63.23.33.255"),
    r("US", 701, "Verizon Business", NetKind::Business, "65.229.164.0", "65.240.3.255"),
    r("US", 20115, "Charter Communications", NetKind::Residential, "75.131.186.0", "75.140.127.255"),
    r("US", 20115, "Charter Communications", NetKind::Residential, "174.80.0.0", "174.87.255.255"),
    r("US", 20115, "Charter Communications", NetKind::Residential, "97.87.223.0", "97.93.175.255"),
    r("US", 21928, "T-Mobile USA", NetKind::Mobile, "100.128.0.0", "100.255.255.255"),
    r("US", 21928, "T-Mobile USA", NetKind::Mobile, "162.160.0.0", "162.191.255.255"),
    r("US", 21928, "T-Mobile USA", NetKind::Mobile, "172.32.0.0", "172.63.255.255"),
    r("US", 22394, "Verizon Wireless", NetKind::Mobile, "97.7.64.0", "97.63.255.255"),
    r("US", 22394, "Verizon Wireless", NetKind::Mobile, "70.192.0.0", "70.223.255.255"),
    r("US", 22394, "Verizon Wireless", NetKind::Mobile, "72.112.0.0", "72.127.255.255"),
    r("GB", 2856, "British Telecommunications PLC", NetKind::Residential, "86.128.0.0", "86.191.255.255"),
    r("GB", 2856, "British Telecommunications PLC", NetKind::Residential, "81.128.0.0", "81.159.255.255"),
    r("GB", 2856, "British Telecommunications PLC", NetKind::Residential, "109.144.0.0", "109.159.255.255"),
    r("GB", 5089, "Virgin Media Limited", NetKind::Residential, "86.0.0.0", "86.31.255.255"),
    r("GB", 5089, "Virgin Media Limited", NetKind::Residential, "82.0.0.0", "82.20.255.255"),
    r("GB", 5089, "Virgin Media Limited", NetKind::Residential, "81.96.0.0", "81.111.255.255"),
    r("GB", 5607, "Sky UK Limited", NetKind::Residential, "90.192.0.0", "90.223.255.255"),
    r("GB", 5607, "Sky UK Limited", NetKind::Residential, "94.0.0.0", "94.15.255.255"),
    r("GB", 5607, "Sky UK Limited", NetKind::Residential, "2.120.0.0", "2.127.255.255"),
    r("GB", 25135, "Vodafone Limited", NetKind::Mobile, "148.252.128.0", "148.252.191.255"),
    r("GB", 25135, "Vodafone Limited", NetKind::Mobile, "88.82.0.0", "88.82.31.255"),
    r("GB", 25135, "Vodafone Limited", NetKind::Mobile, "89.104.32.0", "89.104.63.255"),
    r("GB", 5400, "British Telecommunications PLC", NetKind::Business, "212.162.192.0", "212.162.232.255"),
    r("GB", 5400, "British Telecommunications PLC", NetKind::Business, "212.162.234.0", "212.162.255.255"),
    r("GB", 5400, "British Telecommunications PLC", NetKind::Business, "195.99.64.0", "195.99.79.255"),
    r("GB", 5400, "British Telecommunications PLC", NetKind::Business, "132.244.64.0", "132.244.78.255"),
    r("DE", 3320, "Deutsche Telekom AG", NetKind::Residential, "79.192.0.0", "79.255.255.255"),
    r("DE", 3320, "Deutsche Telekom AG", NetKind::Residential, "84.128.0.0", "84.191.255.255"),
    r("DE", 3320, "Deutsche Telekom AG", NetKind::Residential, "87.128.0.0", "87.191.255.255"),
    r("DE", 3209, "Vodafone GmbH", NetKind::Residential, "88.64.0.0", "88.79.255.255"),
    r("DE", 3209, "Vodafone GmbH", NetKind::Residential, "178.0.0.0", "178.15.255.255"),
    r("DE", 3209, "Vodafone GmbH", NetKind::Residential, "188.96.0.0", "188.111.255.255"),
    r("DE", 6805, "Telefonica Germany", NetKind::Mobile, "77.0.0.0", "77.15.255.255"),
    r("DE", 6805, "Telefonica Germany", NetKind::Mobile, "77.176.0.0", "77.191.255.255"),
    r("DE", 6805, "Telefonica Germany", NetKind::Mobile, "2.208.0.0", "2.215.255.255"),
    r("DE", 8881, "1&1 Versatel Deutschland", NetKind::Business, "89.244.0.0", "89.247.219.255"),
    r("DE", 8881, "1&1 Versatel Deutschland", NetKind::Business, "92.116.0.0", "92.117.255.255"),
    r("DE", 8881, "1&1 Versatel Deutschland", NetKind::Business, "87.122.0.0", "87.123.207.255"),
    r("FR", 3215, "Orange S.A.", NetKind::Residential, "90.0.0.0", "90.36.127.255"),
    r("FR", 3215, "Orange S.A.", NetKind::Residential, "86.192.0.0", "86.223.255.255"),
    r("FR", 3215, "Orange S.A.", NetKind::Residential, "90.37.0.0", "90.63.255.255"),
    r("FR", 12322, "Free SAS", NetKind::Residential, "82.224.0.0", "82.255.255.255"),
    r("FR", 12322, "Free SAS", NetKind::Residential, "88.160.0.0", "88.191.255.255"),
    r("FR", 12322, "Free SAS", NetKind::Residential, "78.192.0.0", "78.207.255.255"),
    r("FR", 15557, "Societe Francaise du Radiotelephone", NetKind::Mobile, "93.0.0.0", "93.31.255.255"),
    r("FR", 15557, "Societe Francaise du Radiotelephone", NetKind::Mobile, "109.0.0.0", "109.31.255.255"),
    r("FR", 15557, "Societe Francaise du Radiotelephone", NetKind::Mobile, "77.144.0.0", "77.159.255.255"),
    r("FR", 5410, "Bouygues Telecom", NetKind::Mobile, "176.162.234.0", "176.191.255.255"),
    r("FR", 5410, "Bouygues Telecom", NetKind::Mobile, "176.140.109.0", "176.162.232.255"),
    r("FR", 5410, "Bouygues Telecom", NetKind::Mobile, "89.80.0.0", "89.95.255.255"),
    r("AU", 1221, "Telstra Limited", NetKind::Residential, "1.120.0.0", "1.159.255.255"),
    r("AU", 1221, "Telstra Limited", NetKind::Residential, "101.167.224.0", "101.191.255.255"),
    r("AU", 1221, "Telstra Limited", NetKind::Residential, "203.35.0.0", "203.54.255.255"),
    r("AU", 4804, "Optus (Microplex PTY LTD)", NetKind::Mobile, "49.176.0.0", "49.199.255.255"),
    r("AU", 4804, "Optus (Microplex PTY LTD)", NetKind::Mobile, "58.104.0.0", "58.111.255.255"),
    r("AU", 4804, "Optus (Microplex PTY LTD)", NetKind::Mobile, "122.104.0.0", "122.111.255.255"),
    r("AU", 7545, "TPG Telecom Limited", NetKind::Residential, "14.200.0.0", "14.203.255.255"),
    r("AU", 7545, "TPG Telecom Limited", NetKind::Residential, "115.128.0.0", "115.131.255.255"),
    r("AU", 7545, "TPG Telecom Limited", NetKind::Residential, "60.240.0.0", "60.242.255.255"),
    r("SG", 9506, "Singtel Fibre Broadband", NetKind::Residential, "121.6.0.0", "121.7.255.255"),
    r("SG", 9506, "Singtel Fibre Broadband", NetKind::Residential, "219.74.146.0", "219.75.127.255"),
    r("SG", 9506, "Singtel Fibre Broadband", NetKind::Residential, "116.14.134.0", "116.15.111.255"),
    r("SG", 7473, "Singapore Telecommunications Ltd", NetKind::Business, "203.208.145.0", "203.208.184.255"),
    r("SG", 7473, "Singapore Telecommunications Ltd", NetKind::Business, "117.18.32.0", "117.18.63.255"),
    r("SG", 7473, "Singapore Telecommunications Ltd", NetKind::Business, "202.160.224.0", "202.160.255.255"),
    r("SG", 4657, "StarHub Ltd", NetKind::Mobile, "101.127.0.0", "101.127.199.255"),
    r("SG", 4657, "StarHub Ltd", NetKind::Mobile, "203.117.99.0", "203.117.245.255"),
    r("SG", 4657, "StarHub Ltd", NetKind::Mobile, "171.1.128.0", "171.1.255.255"),
    r("SG", 4773, "M1 Limited", NetKind::Mobile, "27.104.0.0", "27.104.255.255"),
    r("SG", 4773, "M1 Limited", NetKind::Mobile, "49.245.0.0", "49.245.255.255"),
    r("SG", 4773, "M1 Limited", NetKind::Mobile, "138.75.0.0", "138.75.255.255"),
    r("CA", 577, "Bell Canada", NetKind::Residential, "142.180.0.0", "142.189.255.255"),
    r("CA", 577, "Bell Canada", NetKind::Residential, "70.48.0.0", "70.55.255.255"),
    r("CA", 577, "Bell Canada", NetKind::Residential, "142.112.0.0", "142.119.127.255"),
    r("CA", 812, "Rogers Communications Canada", NetKind::Residential, "99.224.0.0", "99.255.255.255"),
    r("CA", 812, "Rogers Communications Canada", NetKind::Residential, "174.112.0.0", "174.119.255.255"),
    r("CA", 812, "Rogers Communications Canada", NetKind::Residential, "99.218.0.0", "99.223.191.255"),
    r("CA", 852, "TELUS Communications", NetKind::Mobile, "23.16.0.0", "23.17.255.255"),
    r("CA", 852, "TELUS Communications", NetKind::Mobile, "108.172.0.0", "108.173.255.255"),
    r("CA", 852, "TELUS Communications", NetKind::Mobile, "162.156.0.0", "162.157.255.255"),
    r("IN", 55836, "Reliance Jio Infocomm Limited", NetKind::Mobile, "157.32.0.0", "157.51.255.255"),
    r("IN", 55836, "Reliance Jio Infocomm Limited", NetKind::Mobile, "49.32.0.0", "49.45.3.255"),
    r("IN", 55836, "Reliance Jio Infocomm Limited", NetKind::Mobile, "115.240.0.0", "115.247.255.255"),
    r("IN", 24560, "Bharti Airtel Ltd.", NetKind::Residential, "122.160.245.0", "122.165.199.255"),
    r("IN", 24560, "Bharti Airtel Ltd.", NetKind::Residential, "122.177.252.0", "122.180.2.255"),
    r("IN", 24560, "Bharti Airtel Ltd.", NetKind::Residential, "122.176.0.0", "122.177.249.255"),
    r("IN", 45609, "Bharti Airtel Ltd. AS for GPRS Service", NetKind::Mobile, "106.195.32.0", "106.198.255.255"),
    r("IN", 45609, "Bharti Airtel Ltd. AS for GPRS Service", NetKind::Mobile, "106.219.184.0", "106.222.191.255"),
    r("IN", 45609, "Bharti Airtel Ltd. AS for GPRS Service", NetKind::Mobile, "27.59.0.0", "27.61.195.255"),
    r("IN", 4755, "Tata Communications Limited", NetKind::Business, "121.240.0.0", "121.242.20.255"),
    r("IN", 4755, "Tata Communications Limited", NetKind::Business, "115.115.0.0", "115.116.255.255"),
    r("IN", 4755, "Tata Communications Limited", NetKind::Business, "14.142.98.0", "14.143.255.255"),
    r("IN", 9829, "Bharat Sanchar Nigam Limited", NetKind::Residential, "117.192.0.0", "117.255.255.255"),
    r("IN", 9829, "Bharat Sanchar Nigam Limited", NetKind::Residential, "59.88.0.0", "59.99.255.255"),
    r("IN", 9829, "Bharat Sanchar Nigam Limited", NetKind::Residential, "61.0.0.0", "61.3.255.255"),
    r("NL", 1136, "KPN B.V.", NetKind::Residential, "77.160.0.0", "77.175.255.255"),
    r("NL", 1136, "KPN B.V.", NetKind::Residential, "86.80.0.0", "86.90.255.255"),
    r("NL", 1136, "KPN B.V.", NetKind::Residential, "188.200.0.0", "188.207.255.255"),
    r("NL", 33915, "Vodafone Libertel B.V. (Ziggo)", NetKind::Residential, "83.80.0.0", "83.87.255.255"),
    r("NL", 33915, "Vodafone Libertel B.V. (Ziggo)", NetKind::Residential, "84.24.0.0", "84.31.255.255"),
    r("NL", 33915, "Vodafone Libertel B.V. (Ziggo)", NetKind::Residential, "94.208.0.0", "94.215.255.255"),
    r("NL", 50266, "Odido Netherlands B.V.", NetKind::Mobile, "188.88.0.0", "188.91.255.255"),
    r("NL", 50266, "Odido Netherlands B.V.", NetKind::Mobile, "87.208.0.0", "87.210.255.255"),
    r("NL", 50266, "Odido Netherlands B.V.", NetKind::Mobile, "143.177.0.0", "143.179.255.255"),
    r("ES", 3352, "Telefonica de Espana", NetKind::Residential, "83.32.0.0", "83.63.255.255"),
    r("ES", 3352, "Telefonica de Espana", NetKind::Residential, "88.0.0.0", "88.31.255.255"),
    r("ES", 3352, "Telefonica de Espana", NetKind::Residential, "79.144.0.0", "79.159.255.255"),
    r("ES", 12430, "Vodafone Espana", NetKind::Mobile, "47.58.0.0", "47.63.255.255"),
    r("ES", 12430, "Vodafone Espana", NetKind::Mobile, "77.208.0.0", "77.211.255.255"),
    r("ES", 12430, "Vodafone Espana", NetKind::Mobile, "95.60.0.0", "95.63.255.255"),
    r("ES", 12479, "Orange Espagne", NetKind::Residential, "85.48.0.0", "85.63.255.255"),
    r("ES", 12479, "Orange Espagne", NetKind::Residential, "90.160.0.0", "90.175.255.255"),
    r("ES", 12479, "Orange Espagne", NetKind::Residential, "87.216.0.0", "87.223.255.255"),
    r("JP", 4713, "NTT Communications Corporation", NetKind::Residential, "153.128.0.0", "153.253.255.255"),
    r("JP", 4713, "NTT Communications Corporation", NetKind::Residential, "180.0.0.0", "180.63.255.255"),
    r("JP", 4713, "NTT Communications Corporation", NetKind::Residential, "114.144.0.0", "114.191.255.255"),
    r("JP", 2516, "KDDI Corporation", NetKind::Mobile, "106.128.0.0", "106.191.255.255"),
    r("JP", 2516, "KDDI Corporation", NetKind::Mobile, "27.80.0.0", "27.95.255.255"),
    r("JP", 2516, "KDDI Corporation", NetKind::Mobile, "111.96.0.0", "111.111.255.255"),
    r("JP", 17676, "SoftBank Corp.", NetKind::Residential, "60.64.0.0", "60.159.255.255"),
    r("JP", 17676, "SoftBank Corp.", NetKind::Residential, "221.48.0.0", "221.111.255.255"),
    r("JP", 17676, "SoftBank Corp.", NetKind::Residential, "219.16.0.0", "219.63.255.255"),
    r("ZA", 37457, "Telkom SA Ltd.", NetKind::Residential, "105.224.0.0", "105.229.255.255"),
    r("ZA", 37457, "Telkom SA Ltd.", NetKind::Residential, "105.184.0.0", "105.187.255.255"),
    r("ZA", 37457, "Telkom SA Ltd.", NetKind::Residential, "197.228.130.0", "197.229.255.255"),
    r("ZA", 29975, "Vodacom", NetKind::Mobile, "41.3.0.0", "41.9.255.255"),
    r("ZA", 29975, "Vodacom", NetKind::Mobile, "41.26.0.0", "41.31.255.255"),
    r("ZA", 29975, "Vodacom", NetKind::Mobile, "105.248.0.0", "105.253.255.255"),
    r("ZA", 16637, "MTN SA", NetKind::Mobile, "105.210.0.0", "105.223.255.255"),
    r("ZA", 16637, "MTN SA", NetKind::Mobile, "197.70.128.0", "197.78.127.255"),
    r("ZA", 16637, "MTN SA", NetKind::Mobile, "105.236.0.0", "105.237.255.255"),
    r("IE", 5466, "Eircom Limited", NetKind::Residential, "86.40.0.0", "86.47.255.255"),
    r("IE", 5466, "Eircom Limited", NetKind::Residential, "83.70.0.0", "83.71.255.255"),
    r("IE", 5466, "Eircom Limited", NetKind::Residential, "95.44.0.0", "95.45.255.255"),
    r("IE", 15502, "Vodafone Ireland Limited", NetKind::Mobile, "109.76.0.0", "109.79.255.255"),
    r("IE", 15502, "Vodafone Ireland Limited", NetKind::Mobile, "51.37.0.0", "51.37.255.255"),
    r("IE", 15502, "Vodafone Ireland Limited", NetKind::Mobile, "93.107.0.0", "93.107.255.255"),
    r("NG", 29465, "MTN Nigeria Communication Limited", NetKind::Mobile, "102.88.0.0", "102.95.255.255"),
    r("NG", 29465, "MTN Nigeria Communication Limited", NetKind::Mobile, "197.210.0.0", "197.210.255.255"),
    r("NG", 29465, "MTN Nigeria Communication Limited", NetKind::Mobile, "41.206.0.0", "41.206.31.255"),
    r("NG", 36873, "Airtel Networks Limited", NetKind::Mobile, "105.114.0.0", "105.120.255.255"),
    r("NG", 36873, "Airtel Networks Limited", NetKind::Mobile, "105.112.248.0", "105.113.191.255"),
    r("NG", 36873, "Airtel Networks Limited", NetKind::Mobile, "105.112.16.0", "105.112.127.255"),
    r("NG", 37148, "Globacom Limited", NetKind::Mobile, "41.203.64.0", "41.203.95.255"),
    r("NG", 37148, "Globacom Limited", NetKind::Mobile, "129.205.96.0", "129.205.127.255"),
    r("NG", 37148, "Globacom Limited", NetKind::Mobile, "197.211.32.0", "197.211.63.255"),
    r("NG", 37282, "Mainone Cable Company", NetKind::Business, "154.113.0.0", "154.113.255.255"),
    r("NG", 37282, "Mainone Cable Company", NetKind::Business, "197.253.0.0", "197.253.63.255"),
    r("NG", 37282, "Mainone Cable Company", NetKind::Business, "41.75.80.0", "41.75.95.255"),
    r("VN", 45899, "VNPT Corp", NetKind::Residential, "14.160.0.0", "14.191.255.255"),
    r("VN", 45899, "VNPT Corp", NetKind::Residential, "113.160.0.0", "113.191.255.255"),
    r("VN", 45899, "VNPT Corp", NetKind::Residential, "14.226.0.0", "14.255.255.255"),
    r("VN", 7552, "Viettel Group", NetKind::Mobile, "171.226.16.0", "171.242.5.255"),
    r("VN", 7552, "Viettel Group", NetKind::Mobile, "171.244.200.0", "171.255.255.255"),
    r("VN", 7552, "Viettel Group", NetKind::Mobile, "27.71.232.0", "27.79.255.255"),
    r("VN", 18403, "FPT Telecom Company", NetKind::Residential, "42.112.0.0", "42.119.255.255"),
    r("VN", 18403, "FPT Telecom Company", NetKind::Residential, "1.52.0.0", "1.55.255.255"),
    r("VN", 18403, "FPT Telecom Company", NetKind::Residential, "118.68.0.0", "118.71.255.255"),
    r("RU", 12389, "PJSC Rostelecom", NetKind::Residential, "178.64.0.0", "178.71.255.255"),
    r("RU", 12389, "PJSC Rostelecom", NetKind::Residential, "37.20.0.0", "37.23.255.255"),
    r("RU", 12389, "PJSC Rostelecom", NetKind::Residential, "92.124.0.0", "92.127.255.255"),
    r("RU", 8359, "MTS PJSC", NetKind::Mobile, "91.76.0.0", "91.79.255.255"),
    r("RU", 8359, "MTS PJSC", NetKind::Mobile, "85.140.128.0", "85.141.255.255"),
    r("RU", 8359, "MTS PJSC", NetKind::Mobile, "83.237.0.0", "83.237.255.255"),
    r("RU", 3216, "PJSC VimpelCom", NetKind::Mobile, "2.95.0.0", "2.95.255.255"),
    r("RU", 3216, "PJSC VimpelCom", NetKind::Mobile, "79.104.0.0", "79.104.199.255"),
    r("RU", 3216, "PJSC VimpelCom", NetKind::Mobile, "89.112.128.0", "89.112.255.255"),
    r("RU", 31133, "PJSC MegaFon", NetKind::Mobile, "178.179.0.0", "178.179.255.255"),
    r("RU", 31133, "PJSC MegaFon", NetKind::Mobile, "178.177.64.0", "178.177.255.255"),
    r("RU", 31133, "PJSC MegaFon", NetKind::Mobile, "31.173.0.0", "31.173.95.255"),
    r("CN", 4134, "Chinanet", NetKind::Residential, "115.200.224.0", "115.219.255.255"),
    r("CN", 4134, "Chinanet", NetKind::Residential, "60.171.130.0", "60.187.255.255"),
    r("CN", 4134, "Chinanet", NetKind::Residential, "183.146.216.0", "183.162.225.255"),
    r("CN", 4837, "China Unicom China169 Backbone", NetKind::Residential, "112.224.214.0", "113.5.0.255"),
    r("CN", 4837, "China Unicom China169 Backbone", NetKind::Residential, "27.192.0.0", "27.223.255.255"),
    r("CN", 4837, "China Unicom China169 Backbone", NetKind::Residential, "39.64.0.0", "39.95.255.255"),
    r("CN", 9808, "China Mobile Communications Group", NetKind::Mobile, "36.181.64.0", "36.191.255.255"),
    r("CN", 9808, "China Mobile Communications Group", NetKind::Mobile, "36.170.96.0", "36.180.255.255"),
    r("CN", 9808, "China Mobile Communications Group", NetKind::Mobile, "183.223.202.0", "183.231.255.255"),
    r("BR", 28573, "Claro NXT Telecomunicacoes Ltda", NetKind::Residential, "191.176.0.0", "191.185.223.255"),
    r("BR", 28573, "Claro NXT Telecomunicacoes Ltda", NetKind::Residential, "179.136.0.0", "179.143.255.255"),
    r("BR", 28573, "Claro NXT Telecomunicacoes Ltda", NetKind::Residential, "179.216.80.0", "179.221.175.255"),
    r("BR", 18881, "Telefonica Brasil S.A (Vivo)", NetKind::Residential, "179.176.0.0", "179.187.255.255"),
    r("BR", 18881, "Telefonica Brasil S.A (Vivo)", NetKind::Residential, "191.31.48.0", "191.35.191.255"),
    r("BR", 18881, "Telefonica Brasil S.A (Vivo)", NetKind::Residential, "177.16.0.0", "177.19.255.255"),
    r("BR", 26615, "TIM S/A", NetKind::Mobile, "191.128.249.0", "191.143.255.255"),
    r("BR", 26615, "TIM S/A", NetKind::Mobile, "191.167.0.0", "191.175.255.255"),
    r("BR", 26615, "TIM S/A", NetKind::Mobile, "179.72.0.0", "179.79.255.255"),
    r("BR", 7738, "V tal (Oi)", NetKind::Residential, "200.216.0.0", "200.217.95.255"),
    r("BR", 7738, "V tal (Oi)", NetKind::Residential, "200.164.0.0", "200.165.15.255"),
    r("BR", 7738, "V tal (Oi)", NetKind::Residential, "200.222.240.0", "200.223.255.255"),
    r("ID", 7713, "PT Telkom Indonesia", NetKind::Residential, "36.66.23.0", "36.95.255.255"),
    r("ID", 7713, "PT Telkom Indonesia", NetKind::Residential, "125.160.0.0", "125.167.255.255"),
    r("ID", 7713, "PT Telkom Indonesia", NetKind::Residential, "110.136.0.0", "110.139.255.255"),
    r("ID", 23693, "PT. Telekomunikasi Selular", NetKind::Mobile, "39.192.0.0", "39.255.255.255"),
    r("ID", 23693, "PT. Telekomunikasi Selular", NetKind::Mobile, "182.0.0.0", "182.15.255.255"),
    r("ID", 23693, "PT. Telekomunikasi Selular", NetKind::Mobile, "114.120.0.0", "114.127.255.255"),
    r("UA", 15895, "Kyivstar PJSC", NetKind::Mobile, "46.118.0.0", "46.119.255.255"),
    r("UA", 15895, "Kyivstar PJSC", NetKind::Mobile, "5.248.0.0", "5.248.255.255"),
    r("UA", 15895, "Kyivstar PJSC", NetKind::Mobile, "37.115.0.0", "37.115.255.255"),
    r("UA", 6849, "PJSC Ukrtelecom", NetKind::Residential, "37.52.240.0", "37.55.255.255"),
    r("UA", 6849, "PJSC Ukrtelecom", NetKind::Residential, "46.200.0.0", "46.201.255.255"),
    r("UA", 6849, "PJSC Ukrtelecom", NetKind::Residential, "94.178.128.0", "94.179.255.255"),
    r("TR", 9121, "Turk Telekomunikasyon Anonim Sirketi", NetKind::Residential, "85.96.0.0", "85.111.255.255"),
    r("TR", 9121, "Turk Telekomunikasyon Anonim Sirketi", NetKind::Residential, "95.0.0.0", "95.12.230.255"),
    r("TR", 9121, "Turk Telekomunikasyon Anonim Sirketi", NetKind::Residential, "95.12.232.0", "95.15.255.255"),
    r("TR", 9121, "Turk Telekomunikasyon Anonim Sirketi", NetKind::Residential, "88.242.0.0", "88.255.255.255"),
    r("TR", 16135, "Turkcell Iletisim Hizmetleri A.S.", NetKind::Mobile, "178.241.252.0", "178.247.255.255"),
    r("TR", 16135, "Turkcell Iletisim Hizmetleri A.S.", NetKind::Mobile, "5.24.0.0", "5.27.123.255"),
    r("TR", 16135, "Turkcell Iletisim Hizmetleri A.S.", NetKind::Mobile, "176.89.0.0", "176.91.255.255"),
    r("AE", 5384, "Emirates Telecommunications Corporation", NetKind::Residential, "2.48.0.0", "2.51.255.255"),
    r("AE", 5384, "Emirates Telecommunications Corporation", NetKind::Residential, "86.96.0.0", "86.99.255.255"),
    r("AE", 5384, "Emirates Telecommunications Corporation", NetKind::Residential, "92.96.0.0", "92.99.255.255"),
    r("AE", 15802, "Emirates Integrated Telecommunications Company (du)", NetKind::Mobile, "94.200.0.0", "94.207.31.255"),
    r("AE", 15802, "Emirates Integrated Telecommunications Company (du)", NetKind::Mobile, "5.30.0.0", "5.32.127.255"),
    r("AE", 15802, "Emirates Integrated Telecommunications Company (du)", NetKind::Mobile, "91.72.0.0", "91.74.122.255"),
    r("EG", 8452, "TE Data", NetKind::Residential, "156.192.0.0", "156.223.255.255"),
    r("EG", 8452, "TE Data", NetKind::Residential, "197.32.0.0", "197.63.255.255"),
    r("EG", 8452, "TE Data", NetKind::Residential, "41.32.0.0", "41.47.255.255"),
    r("KE", 33771, "Safaricom Limited", NetKind::Mobile, "196.97.20.0", "196.111.255.255"),
    r("KE", 33771, "Safaricom Limited", NetKind::Mobile, "105.160.0.0", "105.167.255.255"),
    r("KE", 33771, "Safaricom Limited", NetKind::Mobile, "41.80.40.0", "41.81.255.255"),
    r("GH", 30986, "Scancom PLC (MTN Ghana)", NetKind::Mobile, "154.160.0.0", "154.175.255.255"),
    r("GH", 30986, "Scancom PLC (MTN Ghana)", NetKind::Mobile, "41.189.160.0", "41.189.191.255"),
    r("GH", 30986, "Scancom PLC (MTN Ghana)", NetKind::Mobile, "196.201.32.0", "196.201.63.255"),
    r("PK", 17557, "Pakistan Telecommunication Company Limited", NetKind::Residential, "39.34.192.0", "39.63.255.255"),
    r("PK", 17557, "Pakistan Telecommunication Company Limited", NetKind::Residential, "182.176.0.0", "182.189.63.255"),
    r("PK", 17557, "Pakistan Telecommunication Company Limited", NetKind::Residential, "119.157.84.0", "119.159.228.255"),
    r("PH", 9299, "Philippine Long Distance Telephone Company", NetKind::Residential, "112.200.0.0", "112.211.255.255"),
    r("PH", 9299, "Philippine Long Distance Telephone Company", NetKind::Residential, "49.144.0.0", "49.151.255.255"),
    r("PH", 9299, "Philippine Long Distance Telephone Company", NetKind::Residential, "180.192.0.0", "180.195.255.255"),
    r("PH", 4775, "Globe Telecoms", NetKind::Mobile, "1.37.84.0", "1.37.255.255"),
    r("PH", 4775, "Globe Telecoms", NetKind::Mobile, "1.37.0.0", "1.37.81.255"),
    r("PH", 4775, "Globe Telecoms", NetKind::Mobile, "112.198.31.0", "112.198.79.255"),
    r("MX", 8151, "UNINET (Telmex)", NetKind::Residential, "189.171.32.0", "189.183.63.255"),
    r("MX", 8151, "UNINET (Telmex)", NetKind::Residential, "187.130.0.0", "187.141.41.255"),
    r("MX", 8151, "UNINET (Telmex)", NetKind::Residential, "189.223.250.0", "189.233.5.255"),
    r("AR", 7303, "Telecom Argentina S.A.", NetKind::Residential, "181.1.156.0", "181.10.17.255"),
    r("AR", 7303, "Telecom Argentina S.A.", NetKind::Residential, "181.10.19.0", "181.10.139.255"),
    r("AR", 7303, "Telecom Argentina S.A.", NetKind::Residential, "181.95.0.0", "181.102.255.255"),
    r("AR", 7303, "Telecom Argentina S.A.", NetKind::Residential, "181.164.0.0", "181.171.255.255"),
    r("MY", 4788, "TM Technology Services Sdn. Bhd.", NetKind::Residential, "175.136.0.0", "175.145.255.255"),
    r("MY", 4788, "TM Technology Services Sdn. Bhd.", NetKind::Residential, "60.48.0.0", "60.54.255.255"),
    r("MY", 4788, "TM Technology Services Sdn. Bhd.", NetKind::Residential, "42.188.0.0", "42.191.255.255"),
    r("TH", 7470, "TRUE INTERNET Co.,Ltd.", NetKind::Residential, "171.102.240.0", "171.103.255.255"),
    r("TH", 7470, "TRUE INTERNET Co.,Ltd.", NetKind::Residential, "119.76.0.0", "119.76.255.255"),
    r("TH", 7470, "TRUE INTERNET Co.,Ltd.", NetKind::Residential, "182.17.0.0", "182.17.255.255"),
    r("IT", 3269, "Telecom Italia S.p.A.", NetKind::Residential, "79.0.0.0", "79.63.255.255"),
    r("IT", 3269, "Telecom Italia S.p.A.", NetKind::Residential, "87.0.0.0", "87.31.255.255"),
    r("IT", 3269, "Telecom Italia S.p.A.", NetKind::Residential, "95.224.0.0", "95.255.255.255"),
    r("PL", 5617, "Orange Polska Spolka Akcyjna", NetKind::Residential, "83.2.60.0", "83.31.255.255"),
    r("PL", 5617, "Orange Polska Spolka Akcyjna", NetKind::Residential, "79.184.0.0", "79.191.255.255"),
    r("PL", 5617, "Orange Polska Spolka Akcyjna", NetKind::Residential, "31.60.0.0", "31.63.255.255"),
    r("RO", 8708, "RCS & RDS SA", NetKind::Residential, "86.120.0.0", "86.127.223.255"),
    r("RO", 8708, "RCS & RDS SA", NetKind::Residential, "5.12.0.0", "5.15.255.255"),
    r("RO", 8708, "RCS & RDS SA", NetKind::Residential, "82.76.0.0", "82.79.255.255"),
    r("MA", 36903, "Office National des Postes et Telecommunications (Maroc Telecom)", NetKind::Residential, "160.176.0.0", "160.179.255.255"),
    r("MA", 36903, "Office National des Postes et Telecommunications (Maroc Telecom)", NetKind::Residential, "105.156.0.0", "105.159.247.255"),
    r("MA", 36903, "Office National des Postes et Telecommunications (Maroc Telecom)", NetKind::Residential, "196.64.0.0", "196.65.255.255"),
    r("US", 16509, "Amazon.com, Inc.", NetKind::Cloud, "44.224.0.0", "44.255.255.255"),
    r("US", 14618, "Amazon.com, Inc.", NetKind::Cloud, "3.208.0.0", "3.239.255.255"),
    r("US", 14618, "Amazon.com, Inc.", NetKind::Cloud, "44.192.0.0", "44.223.255.255"),
    r("US", 14618, "Amazon.com, Inc.", NetKind::Cloud, "3.80.0.0", "3.95.255.255"),
    r("US", 14061, "DigitalOcean, LLC", NetKind::Cloud, "45.55.0.0", "45.55.255.255"),
    r("US", 14061, "DigitalOcean, LLC", NetKind::Cloud, "104.131.0.0", "104.131.255.255"),
    r("US", 14061, "DigitalOcean, LLC", NetKind::Cloud, "104.236.0.0", "104.236.255.255"),
    r("US", 63949, "Akamai Technologies (Linode)", NetKind::Cloud, "45.33.0.0", "45.33.127.255"),
    r("US", 63949, "Akamai Technologies (Linode)", NetKind::Cloud, "45.56.64.0", "45.56.127.255"),
    r("US", 63949, "Akamai Technologies (Linode)", NetKind::Cloud, "50.116.0.0", "50.116.63.255"),
    r("US", 20473, "The Constant Company (Vultr)", NetKind::Cloud, "44.33.0.0", "44.33.5.255"),
    r("US", 20473, "The Constant Company (Vultr)", NetKind::Cloud, "44.33.7.0", "44.33.255.255"),
    r("US", 20473, "The Constant Company (Vultr)", NetKind::Cloud, "144.202.0.0", "144.202.127.255"),
    r("US", 20473, "The Constant Company (Vultr)", NetKind::Cloud, "152.39.128.0", "152.39.255.255"),
    r("NL", 14061, "DigitalOcean, LLC", NetKind::Cloud, "188.226.128.0", "188.226.255.255"),
    r("NL", 14061, "DigitalOcean, LLC", NetKind::Cloud, "95.85.0.0", "95.85.63.255"),
    r("NL", 14061, "DigitalOcean, LLC", NetKind::Cloud, "146.185.128.0", "146.185.191.255"),
    r("DE", 14061, "DigitalOcean, LLC", NetKind::Cloud, "64.226.64.0", "64.226.127.255"),
    r("DE", 14061, "DigitalOcean, LLC", NetKind::Cloud, "207.154.192.0", "207.154.255.255"),
    r("SG", 14061, "DigitalOcean, LLC", NetKind::Cloud, "103.253.144.0", "103.253.147.255"),
    r("SG", 14061, "DigitalOcean, LLC", NetKind::Cloud, "163.47.8.0", "163.47.11.255"),
    r("DE", 16509, "Amazon.com, Inc.", NetKind::Cloud, "63.176.0.0", "63.191.255.255"),
    r("DE", 16509, "Amazon.com, Inc.", NetKind::Cloud, "57.104.0.0", "57.111.255.255"),
    r("DE", 16509, "Amazon.com, Inc.", NetKind::Cloud, "51.212.0.0", "51.217.255.255"),
    r("IE", 16509, "Amazon.com, Inc.", NetKind::Cloud, "34.240.0.0", "34.255.255.255"),
    r("IE", 16509, "Amazon.com, Inc.", NetKind::Cloud, "63.32.0.0", "63.35.255.255"),
    r("IE", 16509, "Amazon.com, Inc.", NetKind::Cloud, "79.125.0.0", "79.125.127.255"),
    r("SG", 16509, "Amazon.com, Inc.", NetKind::Cloud, "47.128.0.0", "47.131.255.255"),
    r("SG", 16509, "Amazon.com, Inc.", NetKind::Cloud, "141.230.0.0", "141.230.255.255"),
    r("SG", 16509, "Amazon.com, Inc.", NetKind::Cloud, "122.248.192.0", "122.248.255.255"),
    r("FR", 16276, "OVH SAS", NetKind::Cloud, "213.251.128.0", "213.251.191.255"),
    r("FR", 16276, "OVH SAS", NetKind::Cloud, "213.186.32.0", "213.186.62.255"),
    r("FR", 16276, "OVH SAS", NetKind::Cloud, "37.60.48.0", "37.60.63.255"),
    r("DE", 24940, "Hetzner Online GmbH", NetKind::Cloud, "49.12.0.0", "49.13.255.255"),
    r("DE", 24940, "Hetzner Online GmbH", NetKind::Cloud, "78.46.0.0", "78.46.27.255"),
    r("DE", 24940, "Hetzner Online GmbH", NetKind::Cloud, "78.46.29.0", "78.46.255.255"),
    r("DE", 24940, "Hetzner Online GmbH", NetKind::Cloud, "78.47.1.0", "78.47.238.255"),
    r("DE", 24940, "Hetzner Online GmbH", NetKind::Cloud, "91.98.0.0", "91.99.255.255"),
    r("NL", 60781, "LeaseWeb Netherlands B.V.", NetKind::Cloud, "85.17.0.0", "85.17.255.255"),
    r("NL", 60781, "LeaseWeb Netherlands B.V.", NetKind::Cloud, "95.211.0.0", "95.211.255.255"),
    r("NL", 60781, "LeaseWeb Netherlands B.V.", NetKind::Cloud, "5.79.64.0", "5.79.127.255"),
    r("GB", 9009, "M247 Europe SRL", NetKind::Vpn, "188.119.128.0", "188.119.143.255"),
    r("GB", 9009, "M247 Europe SRL", NetKind::Vpn, "5.157.168.0", "5.157.175.255"),
    r("GB", 9009, "M247 Europe SRL", NetKind::Vpn, "64.43.80.0", "64.43.87.255"),
    r("RO", 9009, "M247 Europe SRL", NetKind::Vpn, "37.120.192.0", "37.120.223.255"),
    r("RO", 9009, "M247 Europe SRL", NetKind::Vpn, "217.138.192.0", "217.138.223.255"),
    r("RO", 9009, "M247 Europe SRL", NetKind::Vpn, "82.102.16.0", "82.102.31.255"),
    r("US", 9009, "M247 Europe SRL", NetKind::Vpn, "92.50.14.0", "92.50.63.255"),
    r("US", 9009, "M247 Europe SRL", NetKind::Vpn, "38.132.96.0", "38.132.127.255"),
    r("US", 9009, "M247 Europe SRL", NetKind::Vpn, "157.254.96.0", "157.254.127.255"),
    r("NL", 9009, "M247 Europe SRL", NetKind::Vpn, "154.199.162.0", "154.199.191.255"),
    r("NL", 9009, "M247 Europe SRL", NetKind::Vpn, "38.180.25.0", "38.180.33.255"),
    r("NL", 9009, "M247 Europe SRL", NetKind::Vpn, "38.180.194.0", "38.180.202.255"),
    r("US", 60068, "Datacamp Limited", NetKind::Vpn, "143.244.48.0", "143.244.51.255"),
    r("US", 212238, "Datacamp Limited", NetKind::Vpn, "104.250.208.0", "104.250.223.255"),
    r("US", 212238, "Datacamp Limited", NetKind::Vpn, "38.57.40.0", "38.57.47.255"),
    r("US", 212238, "Datacamp Limited", NetKind::Vpn, "38.141.8.0", "38.141.15.255"),
    r("SE", 42708, "GleSYS AB", NetKind::Vpn, "178.73.221.0", "178.73.255.255"),
    r("SE", 42708, "GleSYS AB", NetKind::Vpn, "109.74.0.0", "109.74.15.255"),
    r("SE", 42708, "GleSYS AB", NetKind::Vpn, "5.178.72.0", "5.178.79.255"),
    r("CH", 51852, "Private Layer INC", NetKind::Vpn, "81.17.16.0", "81.17.31.255"),
    r("CH", 51852, "Private Layer INC", NetKind::Vpn, "31.7.56.0", "31.7.63.255"),
    r("CH", 51852, "Private Layer INC", NetKind::Vpn, "46.19.136.0", "46.19.143.255"),
    r("US", 7922, "Comcast Cable Communications", NetKind::Residential, "2601:a80::", "2601:fff:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("US", 7018, "AT&T Services", NetKind::Residential, "2602:300::", "2602:3ff:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("US", 701, "Verizon Business", NetKind::Business, "2600:4000::", "2600:40ff:ff12:ffff:ffff:ffff:ffff:ffff"),
    r("US", 20115, "Charter Communications", NetKind::Residential, "2603:6090::", "2603:609f:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("US", 21928, "T-Mobile USA", NetKind::Mobile, "2607:fb90:c13f::", "2607:fb90:ccff:ffff:ffff:ffff:ffff:ffff"),
    r("US", 21928, "T-Mobile USA", NetKind::Mobile, "2607:fb90:ce00::", "2607:fb92:bff:ffff:ffff:ffff:ffff:ffff"),
    r("US", 21928, "T-Mobile USA", NetKind::Mobile, "2607:fb92:d00::", "2607:fb9f:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("GB", 2856, "British Telecommunications PLC", NetKind::Residential, "2a01:4c8::", "2a01:4cf:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("GB", 5089, "Virgin Media Limited", NetKind::Residential, "2a02:8880::", "2a02:88ff:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("GB", 5607, "Sky UK Limited", NetKind::Residential, "2a02:c78::", "2a02:c7f:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("GB", 5400, "British Telecommunications PLC", NetKind::Business, "2001:740::", "2001:740:c000:ffff:ffff:ffff:ffff:ffff"),
    r("GB", 5400, "British Telecommunications PLC", NetKind::Business, "2001:740:c002::", "2001:740:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("DE", 3320, "Deutsche Telekom AG", NetKind::Residential, "2003::", "2003:8:1800:7fff:ffff:ffff:ffff:ffff"),
    r("DE", 3320, "Deutsche Telekom AG", NetKind::Residential, "2003:8:e800:1::", "2003:17a:1fff:ffff:ffff:ffff:ffff:ffff"),
    r("DE", 3320, "Deutsche Telekom AG", NetKind::Residential, "2003:17f:f000::", "2003:1ff:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("DE", 3209, "Vodafone GmbH", NetKind::Residential, "2a00::", "2a00:3ff:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("DE", 6805, "Telefonica Germany", NetKind::Mobile, "2a02:3000::", "2a02:31ff:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("DE", 8881, "1&1 Versatel Deutschland", NetKind::Business, "2a07:9400::", "2a07:9407:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("FR", 3215, "Orange S.A.", NetKind::Residential, "2a01:c910::", "2a01:c918:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("FR", 12322, "Free SAS", NetKind::Residential, "2a01:e14::", "2a01:e3f:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("FR", 15557, "Societe Francaise du Radiotelephone", NetKind::Mobile, "2a02:8400::", "2a02:847f:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("FR", 5410, "Bouygues Telecom", NetKind::Mobile, "2001:860::", "2001:867:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("AU", 1221, "Telstra Limited", NetKind::Residential, "2001:8000::", "2001:8fff:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("AU", 4804, "Optus (Microplex PTY LTD)", NetKind::Mobile, "2405:dc00:8000::", "2405:dc00:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("AU", 7545, "TPG Telecom Limited", NetKind::Residential, "2407:8800::", "2407:8800:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("SG", 9506, "Singtel Fibre Broadband", NetKind::Residential, "2400:d802:9080::", "2400:d802:90ff:ffff:ffff:ffff:ffff:ffff"),
    r("SG", 7473, "Singapore Telecommunications Ltd", NetKind::Business, "2001:c10::", "2001:c10:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("SG", 4657, "StarHub Ltd", NetKind::Mobile, "2406:3002:402:300::", "2406:3003:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("SG", 4773, "M1 Limited", NetKind::Mobile, "2401:7400:2ff::", "2401:7400:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("CA", 577, "Bell Canada", NetKind::Residential, "2001:4958::", "2001:4958:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("CA", 812, "Rogers Communications Canada", NetKind::Residential, "2605:1300::", "2605:1300:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("CA", 852, "TELUS Communications", NetKind::Mobile, "2001:569::", "2001:56a:d:ffff:ffff:ffff:ffff:ffff"),
    r("IN", 55836, "Reliance Jio Infocomm Limited", NetKind::Mobile, "2409:40f4:4000::", "2409:43ff:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("IN", 24560, "Bharti Airtel Ltd.", NetKind::Residential, "2401:4900:1c00::", "2401:4900:1cff:ffff:ffff:ffff:ffff:ffff"),
    r("IN", 45609, "Bharti Airtel Ltd. AS for GPRS Service", NetKind::Mobile, "2401:4900:d800::", "2401:4900:efff:ffff:ffff:ffff:ffff:ffff"),
    r("IN", 4755, "Tata Communications Limited", NetKind::Business, "2403::", "2403:0:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("NL", 1136, "KPN B.V.", NetKind::Residential, "2a02:a440::", "2a02:a47f:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("NL", 33915, "Vodafone Libertel B.V. (Ziggo)", NetKind::Residential, "2001:1c00::", "2001:1dff:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("NL", 50266, "Odido Netherlands B.V.", NetKind::Mobile, "2a02:4240::", "2a02:4240:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("ES", 3352, "Telefonica de Espana", NetKind::Residential, "2a02:9010:46::", "2a02:91ff:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("ES", 12430, "Vodafone Espana", NetKind::Mobile, "2a01:800::", "2a01:801:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("JP", 4713, "NTT Communications Corporation", NetKind::Residential, "2400:4000::", "2400:43ff:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("JP", 2516, "KDDI Corporation", NetKind::Mobile, "240f::", "240f:1ff:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("JP", 17676, "SoftBank Corp.", NetKind::Residential, "2400:2000::", "2400:2fff:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("ZA", 37457, "Telkom SA Ltd.", NetKind::Residential, "2c0e:2200::", "2c0e:220f:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("ZA", 16637, "MTN SA", NetKind::Mobile, "2001:4218::", "2001:4218:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("IE", 5466, "Eircom Limited", NetKind::Residential, "2001:bb0::", "2001:bb0:0:ffff:ffff:ffff:ffff:ffff"),
    r("NG", 36873, "Airtel Networks Limited", NetKind::Mobile, "2c0f:2280::", "2c0f:2280:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("NG", 37282, "Mainone Cable Company", NetKind::Business, "2001:43f8:11f1::", "2001:43f8:11f1:ffff:ffff:ffff:ffff:ffff"),
    r("VN", 45899, "VNPT Corp", NetKind::Residential, "2001:df3:d8c0::", "2001:df3:d8c0:ffff:ffff:ffff:ffff:ffff"),
    r("VN", 7552, "Viettel Group", NetKind::Mobile, "2401:d800::", "2401:d800:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("VN", 18403, "FPT Telecom Company", NetKind::Residential, "2405:4800::", "2405:4803:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("RU", 12389, "PJSC Rostelecom", NetKind::Residential, "2a06:a600::", "2a06:a607:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("RU", 8359, "MTS PJSC", NetKind::Mobile, "2a00:1fa0::", "2a00:1fa7:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("RU", 3216, "PJSC VimpelCom", NetKind::Mobile, "2a00:1248::", "2a00:1248:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("RU", 31133, "PJSC MegaFon", NetKind::Mobile, "2a03:d000:2000::", "2a03:d000:32ff:ffff:ffff:ffff:ffff:ffff"),
    r("CN", 4134, "Chinanet", NetKind::Residential, "240e:108:4bc1::", "240e:97d:7fff:ffff:ffff:ffff:ffff:ffff"),
    r("CN", 4837, "China Unicom China169 Backbone", NetKind::Residential, "2408:822e::", "2408:8239:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("CN", 9808, "China Mobile Communications Group", NetKind::Mobile, "2409:8120::", "2409:821d:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("BR", 28573, "Claro NXT Telecomunicacoes Ltda", NetKind::Residential, "2804:14d:ec00::", "2804:14d:edff:ffff:ffff:ffff:ffff:ffff"),
    r("BR", 18881, "Telefonica Brasil S.A (Vivo)", NetKind::Residential, "2804:7f4:100::", "2804:7f4:7803:ffff:ffff:ffff:ffff:ffff"),
    r("BR", 26615, "TIM S/A", NetKind::Mobile, "2804:20::", "2804:20:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("BR", 7738, "V tal (Oi)", NetKind::Residential, "2804:d40::", "2804:d4f:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("ID", 23693, "PT. Telekomunikasi Selular", NetKind::Mobile, "2400:82e0::", "2400:82e0:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("UA", 15895, "Kyivstar PJSC", NetKind::Mobile, "2a02:8a8::", "2a02:8a8:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("UA", 6849, "PJSC Ukrtelecom", NetKind::Residential, "2a00:70e0::", "2a00:70e0:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("TR", 9121, "Turk Telekomunikasyon Anonim Sirketi", NetKind::Residential, "2a00:1d30::", "2a00:1d37:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("TR", 16135, "Turkcell Iletisim Hizmetleri A.S.", NetKind::Mobile, "2a02:4e0::", "2a02:4e0:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("AE", 15802, "Emirates Integrated Telecommunications Company (du)", NetKind::Mobile, "2a00:f28:8000::", "2a00:f2e:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("EG", 8452, "TE Data", NetKind::Residential, "2c0f:7b00::", "2c0f:7b0f:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("KE", 33771, "Safaricom Limited", NetKind::Mobile, "2001:43d0:8::", "2001:43d0:8:ffff:ffff:ffff:ffff:ffff"),
    r("GH", 30986, "Scancom PLC (MTN Ghana)", NetKind::Mobile, "2c0e:a000::", "2c0e:a0ff:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("PK", 17557, "Pakistan Telecommunication Company Limited", NetKind::Residential, "2404:7000:1000:1::", "2404:7000:5fff:ffff:ffff:ffff:ffff:ffff"),
    r("PH", 9299, "Philippine Long Distance Telephone Company", NetKind::Residential, "2001:4450:41::", "2001:4457:fef:ffff:ffff:ffff:ffff:ffff"),
    r("MX", 8151, "UNINET (Telmex)", NetKind::Residential, "2806:1000:301::", "2806:1010:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("AR", 7303, "Telecom Argentina S.A.", NetKind::Residential, "2800:2000::", "2800:2fff:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("MY", 4788, "TM Technology Services Sdn. Bhd.", NetKind::Residential, "2401:3c00:202::", "2401:3c00:221:ffff:ffff:ffff:ffff:ffff"),
    r("TH", 7470, "TRUE INTERNET Co.,Ltd.", NetKind::Residential, "2400:c540:110::", "2400:c540:110:ffff:ffff:ffff:ffff:ffff"),
    r("IT", 3269, "Telecom Italia S.p.A.", NetKind::Residential, "2a01:2000::", "2a01:2fff:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("PL", 5617, "Orange Polska Spolka Akcyjna", NetKind::Residential, "2a01:1200::", "2a01:17ff:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("RO", 8708, "RCS & RDS SA", NetKind::Residential, "2a02:2f00::", "2a02:2f0f:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("MA", 36903, "Office National des Postes et Telecommunications (Maroc Telecom)", NetKind::Residential, "2001:4288:8000::", "2001:4288:8000:ffff:ffff:ffff:ffff:ffff"),
    r("US", 16509, "Amazon.com, Inc.", NetKind::Cloud, "2600:1fa0:ed00::", "2600:1fb8:fff:ffff:ffff:ffff:ffff:ffff"),
    r("US", 16509, "Amazon.com, Inc.", NetKind::Cloud, "2600:1fb8:1100::", "2600:1fb8:73ff:ffff:ffff:ffff:ffff:ffff"),
    r("US", 16509, "Amazon.com, Inc.", NetKind::Cloud, "2600:1fb9:1100::", "2600:1fb9:73ff:ffff:ffff:ffff:ffff:ffff"),
    r("US", 14618, "Amazon.com, Inc.", NetKind::Cloud, "2604:26a0::", "2604:26a0:1f:ffff:ffff:ffff:ffff:ffff"),
    r("US", 14618, "Amazon.com, Inc.", NetKind::Cloud, "2604:26a0:32::", "2604:26a0:5006:ffff:ffff:ffff:ffff:ffff"),
    r("US", 14618, "Amazon.com, Inc.", NetKind::Cloud, "2604:26a0:500f::", "2604:26a0:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("US", 20473, "The Constant Company (Vultr)", NetKind::Cloud, "2a10:1c80::", "2a10:1c87:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("NL", 14061, "DigitalOcean, LLC", NetKind::Cloud, "2a03:b0c0:2:d0::", "2a03:b0c0:3:cf:ffff:ffff:ffff:ffff"),
    r("SG", 14061, "DigitalOcean, LLC", NetKind::Cloud, "2400:6180::", "2400:6180:0:ffff:ffff:ffff:ffff:ffff"),
    r("DE", 16509, "Amazon.com, Inc.", NetKind::Cloud, "2a0f:340::", "2a0f:347:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("IE", 16509, "Amazon.com, Inc.", NetKind::Cloud, "2a05:d000:e100::", "2a05:d010:7fff:ffff:ffff:ffff:ffff:ffff"),
    r("IE", 16509, "Amazon.com, Inc.", NetKind::Cloud, "2a05:d040:e100::", "2a05:d050:7ff:ffff:ffff:ffff:ffff:ffff"),
    r("IE", 16509, "Amazon.com, Inc.", NetKind::Cloud, "2a05:d05b:e100::", "2a05:d068:7ff:ffff:ffff:ffff:ffff:ffff"),
    r("SG", 16509, "Amazon.com, Inc.", NetKind::Cloud, "2406:daa0:8030::", "2406:daa0:8083:ffff:ffff:ffff:ffff:ffff"),
    r("FR", 16276, "OVH SAS", NetKind::Cloud, "2001:41d0:f00:d900::", "2001:41d0:1fff:ffff:ffff:ffff:ffff:ffff"),
    r("FR", 16276, "OVH SAS", NetKind::Cloud, "2001:41d0:2100:1500::", "2001:41d0:a7ff:ffff:ffff:ffff:ffff:ffff"),
    r("FR", 16276, "OVH SAS", NetKind::Cloud, "2001:41d0:ab14::", "2001:41d0:fbff:ffff:ffff:ffff:ffff:ffff"),
    r("DE", 24940, "Hetzner Online GmbH", NetKind::Cloud, "2a06:be80::", "2a06:be87:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("NL", 60781, "LeaseWeb Netherlands B.V.", NetKind::Cloud, "2a01:b2e0::", "2a01:b2e7:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("GB", 9009, "M247 Europe SRL", NetKind::Vpn, "2a0a:8040::", "2a0a:8047:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("RO", 9009, "M247 Europe SRL", NetKind::Vpn, "2a04:9dc0:4::", "2a04:9dc0:17:ffff:ffff:ffff:ffff:ffff"),
    r("RO", 9009, "M247 Europe SRL", NetKind::Vpn, "2a04:9dc0:1a::", "2a04:9dc0:1f:ffff:ffff:ffff:ffff:ffff"),
    r("RO", 9009, "M247 Europe SRL", NetKind::Vpn, "2a04:9dc0:21::", "2a04:9dc7:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("US", 9009, "M247 Europe SRL", NetKind::Vpn, "2a0f:a8c2::", "2a0f:a8c7:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("NL", 9009, "M247 Europe SRL", NetKind::Vpn, "2a12:cc40::", "2a12:cc47:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("GB", 60068, "Datacamp Limited", NetKind::Vpn, "2a02:6ea0:babe::", "2a02:6ea0:babe:ffff:ffff:ffff:ffff:ffff"),
    r("US", 212238, "Datacamp Limited", NetKind::Vpn, "2a07:4a80::", "2a07:4a87:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("SE", 42708, "GleSYS AB", NetKind::Vpn, "2a02:750::", "2a02:750:7:ffff:ffff:ffff:ffff:ffff"),
    r("SE", 42708, "GleSYS AB", NetKind::Vpn, "2a02:750:9::", "2a02:750:f:ffff:ffff:ffff:ffff:ffff"),
    r("SE", 42708, "GleSYS AB", NetKind::Vpn, "2a02:750:15::", "2a02:757:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("CH", 51852, "Private Layer INC", NetKind::Vpn, "2a02:29b8::", "2a02:29b8:ffff:ffff:ffff:ffff:ffff:ffff"),
    r("US", 15169, "Google LLC", NetKind::Cloud, "34.112.0.0", "34.115.255.255"),
    r("US", 15169, "Google LLC", NetKind::Cloud, "34.188.0.0", "34.190.79.255"),
    r("US", 15169, "Google LLC", NetKind::Mail, "142.250.0.0", "142.251.255.255"),
    r("US", 11377, "SendGrid, Inc.", NetKind::Mail, "159.183.61.0", "159.183.249.255"),
    r("US", 11377, "SendGrid, Inc.", NetKind::Mail, "149.72.112.0", "149.72.255.255"),
    r("US", 11377, "SendGrid, Inc.", NetKind::Mail, "167.89.0.0", "167.89.127.255"),
    r("GB", 206067, "Hutchison 3G UK Limited", NetKind::Mobile, "188.28.0.0", "188.31.255.255"),
    r("GB", 206067, "Hutchison 3G UK Limited", NetKind::Mobile, "94.196.0.0", "94.197.255.255"),
    r("GB", 206067, "Hutchison 3G UK Limited", NetKind::Mobile, "92.40.0.0", "92.41.254.255"),
    r("US", 36647, "Yahoo", NetKind::Mail, "67.195.0.0", "67.195.151.255"),
    r("US", 36647, "Yahoo", NetKind::Mail, "98.136.192.0", "98.137.79.255"),
    r("US", 36647, "Yahoo", NetKind::Mail, "68.180.192.0", "68.180.255.255"),
];

/// A parsed range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpRange {
    pub country: &'static str,
    pub asn: u32,
    pub org: &'static str,
    pub kind: NetKind,
    pub first: IpAddr,
    pub last: IpAddr,
}

impl IpRange {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.first, self.last, ip) {
            (IpAddr::V4(a), IpAddr::V4(b), IpAddr::V4(x)) => a <= x && x <= b,
            (IpAddr::V6(a), IpAddr::V6(b), IpAddr::V6(x)) => a <= x && x <= b,
            _ => false,
        }
    }
}

/// All ranges, parsed.
pub fn ranges() -> &'static [IpRange] {
    static PARSED: OnceLock<Vec<IpRange>> = OnceLock::new();
    PARSED.get_or_init(|| {
        RANGES
            .iter()
            .map(|raw| IpRange {
                country: raw.country,
                asn: raw.asn,
                org: raw.org,
                kind: raw.kind,
                first: raw.first.parse().expect("valid first address"),
                last: raw.last.parse().expect("valid last address"),
            })
            .collect()
    })
}

/// The range of the table that holds `ip`, if any.
pub fn lookup(ip: IpAddr) -> Option<&'static IpRange> {
    ranges().iter().find(|r| r.contains(ip))
}

/// One network operator of one kind in one country, with all of its ranges.
#[derive(Debug)]
pub(crate) struct Isp {
    pub country: &'static str,
    pub asn: u32,
    pub org: &'static str,
    pub kind: NetKind,
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl Isp {
    pub fn has_v6(&self) -> bool {
        !self.v6.is_empty()
    }

    /// A host address (never .0 or .255) from one of the operator's IPv4 ranges.
    pub fn pick_v4<R: Rng + ?Sized>(&self, rng: &mut R) -> Ipv4Addr {
        let (a, b) = self.v4[rng.random_range(0..self.v4.len())];
        let x = rng.random_range(a..=b);
        let host = rng.random_range(1..=254u32);
        Ipv4Addr::from((x & !0xff) | host)
    }

    /// An address from one of the operator's IPv6 ranges: a /64 in the range and a random
    /// interface identifier.
    pub fn pick_v6<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<Ipv6Addr> {
        if self.v6.is_empty() {
            return None;
        }
        let (a, b) = self.v6[rng.random_range(0..self.v6.len())];
        let hi = rng.random_range((a >> 64) as u64..=(b >> 64) as u64) as u128;
        let lo = rng.random::<u64>() as u128;
        Some(Ipv6Addr::from((hi << 64) | lo))
    }

    /// A host address chosen by a hash value (for stable per-name addresses).
    pub fn v4_at(&self, h: u64) -> Ipv4Addr {
        let (a, b) = self.v4[(h % self.v4.len() as u64) as usize];
        let span = (b - a) as u64 + 1;
        let x = a as u64 + (h >> 8) % span;
        let host = 1 + (h >> 40) % 254;
        Ipv4Addr::from(((x as u32) & !0xff) | host as u32)
    }

    /// IPv4 unless `v6` is asked for and the operator has IPv6 ranges.
    pub fn pick<R: Rng + ?Sized>(&self, rng: &mut R, v6: bool) -> IpAddr {
        if v6 {
            if let Some(a) = self.pick_v6(rng) {
                return IpAddr::V6(a);
            }
        }
        IpAddr::V4(self.pick_v4(rng))
    }
}

/// Every operator in the table (grouped by country, AS number and kind), in table order.
pub(crate) fn isps() -> &'static [Isp] {
    static ISPS: OnceLock<Vec<Isp>> = OnceLock::new();
    ISPS.get_or_init(|| {
        let mut out: Vec<Isp> = Vec::new();
        for r in ranges() {
            let idx = match out
                .iter()
                .position(|i| i.country == r.country && i.asn == r.asn && i.kind == r.kind)
            {
                Some(i) => i,
                None => {
                    out.push(Isp {
                        country: r.country,
                        asn: r.asn,
                        org: r.org,
                        kind: r.kind,
                        v4: Vec::new(),
                        v6: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            match (r.first, r.last) {
                (IpAddr::V4(a), IpAddr::V4(b)) => out[idx].v4.push((u32::from(a), u32::from(b))),
                (IpAddr::V6(a), IpAddr::V6(b)) => out[idx].v6.push((u128::from(a), u128::from(b))),
                _ => unreachable!("mixed address families in one range"),
            }
        }
        // Operators with only IPv6 ranges cannot serve the IPv4 pickers.
        out.retain(|i| !i.v4.is_empty());
        out
    })
}

/// Indices into [`isps`] of the operators of `kind` in `country`.
pub(crate) fn isps_for(country: &str, kind: NetKind) -> Vec<usize> {
    isps()
        .iter()
        .enumerate()
        .filter(|(_, i)| i.country == country && i.kind == kind)
        .map(|(n, _)| n)
        .collect()
}

/// Indices of every operator of `kind`, any country.
pub(crate) fn isps_of_kind(kind: NetKind) -> Vec<usize> {
    isps()
        .iter()
        .enumerate()
        .filter(|(_, i)| i.kind == kind)
        .map(|(n, _)| n)
        .collect()
}

/// An operator for people (homes, hotels) in `country`: residential if the table has one,
/// else business, else mobile.
pub(crate) fn consumer_isps(country: &str) -> Vec<usize> {
    for kind in [NetKind::Residential, NetKind::Business, NetKind::Mobile] {
        let v = isps_for(country, kind);
        if !v.is_empty() {
            return v;
        }
    }
    Vec::new()
}

/// A mobile operator in `country`, falling back to any consumer operator.
pub(crate) fn mobile_isps(country: &str) -> Vec<usize> {
    let v = isps_for(country, NetKind::Mobile);
    if v.is_empty() {
        consumer_isps(country)
    } else {
        v
    }
}

/// An operator for an office in `country`: business if the table has one, else the country's
/// incumbent (the first consumer operator listed), which also sells business lines.
pub(crate) fn office_isps(country: &str) -> Vec<usize> {
    let v = isps_for(country, NetKind::Business);
    if v.is_empty() {
        consumer_isps(country).into_iter().take(1).collect()
    } else {
        v
    }
}

/// AS number and organisation of an operator index.
pub(crate) fn isp_as(isp: usize) -> (u32, &'static str) {
    (isps()[isp].asn, isps()[isp].org)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_are_ordered() {
        for r in ranges() {
            match (r.first, r.last) {
                (IpAddr::V4(a), IpAddr::V4(b)) => {
                    assert!(a <= b, "{a} > {b}");
                    assert_eq!(u32::from(a) & 0xff, 0, "{a} not /24 aligned");
                    assert_eq!(u32::from(b) & 0xff, 0xff, "{b} not /24 aligned");
                }
                (IpAddr::V6(a), IpAddr::V6(b)) => assert!(a <= b),
                _ => panic!("mixed families"),
            }
            assert_eq!(r.country.len(), 2);
        }
    }

    #[test]
    fn picked_addresses_stay_in_their_operator() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for isp in isps() {
            for _ in 0..20 {
                let ip = IpAddr::V4(isp.pick_v4(&mut rng));
                let hit = lookup(ip).expect("picked address is in the table");
                assert_eq!(hit.asn, isp.asn);
                assert_eq!(hit.country, isp.country);
                if let Some(v6) = isp.pick_v6(&mut rng) {
                    let hit = lookup(IpAddr::V6(v6)).expect("v6 in table");
                    assert_eq!(hit.country, isp.country);
                }
            }
        }
    }
}
