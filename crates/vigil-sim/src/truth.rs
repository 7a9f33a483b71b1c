//! Ground truth: what the simulated tenant looks like and which records attackers made.
//! Written to `truth.json`; the types deserialise, so an evaluation harness can load it back.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AttackKind, SimError};

/// What an account is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Regular,
    Admin,
    /// A device or relay account that sends mail with SMTP AUTH (legacy authentication) every
    /// day from an office address.
    Service,
    /// A person whose mail client uses IMAP (legacy authentication).
    Imap,
    /// Joins during the period: no history before `join_time`.
    NewStarter,
    /// Travels on business, including to countries attackers are often seen from.
    Traveller,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    pub generator: String,
    pub seed: u64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub days: u32,
    pub api_quirks: bool,
    pub organization: TruthOrg,
    pub accounts: Vec<TruthAccount>,
    pub attacks: Vec<TruthAttack>,
    /// Benign events that look like attacks (rare rules, consents, legacy auth, bulk mail...).
    pub noise: Vec<NoiseEvent>,
    /// Records written per output stream (duplicates included).
    pub record_counts: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TruthOrg {
    pub name: String,
    pub domain: String,
    pub tenant_id: String,
    pub tenant_domain: String,
    pub offices: Vec<TruthOffice>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TruthOffice {
    pub city: String,
    pub country: String,
    pub asn: u32,
    pub as_org: String,
    pub ips: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TruthAccount {
    pub upn: String,
    pub display_name: String,
    pub object_id: String,
    pub home_country: String,
    pub office_city: String,
    pub department: String,
    pub role: Role,
    pub traits: Vec<String>,
    /// Set for new starters: the account exists from this time.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub join_time: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub trips: Vec<TruthTrip>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub new_phone_from: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TruthTrip {
    pub country: String,
    pub city: String,
    /// Local dates of the first and last day away, `YYYY-MM-DD`.
    pub first_day: String,
    pub last_day: String,
}

/// Ids of the records one attack made, by log.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TruthRecords {
    /// Management Activity API `Id`s.
    pub audit: Vec<String>,
    /// Entra sign-in `id`s.
    pub sign_in: Vec<String>,
    /// `MessageTraceId:RecipientAddress`.
    pub message_trace: Vec<String>,
}

impl TruthRecords {
    pub fn len(&self) -> usize {
        self.audit.len() + self.sign_in.len() + self.message_trace.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TruthApp {
    pub name: String,
    pub id: String,
    pub scopes: Vec<String>,
}

/// One step of an attack, for a readable timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TruthStep {
    pub time: DateTime<Utc>,
    pub upn: String,
    pub what: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TruthAttack {
    /// Unique within the run, e.g. `atk-01-reference-chain`.
    pub id: String,
    pub kind: AttackKind,
    /// Index of the UTC day the attack starts on.
    pub day: u32,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Accounts the attacker acted on or against.
    pub victims: Vec<String>,
    /// Accounts the attacker actually controlled.
    pub compromised: Vec<String>,
    pub attacker_ips: Vec<String>,
    pub attacker_countries: Vec<String>,
    pub attacker_asns: Vec<u32>,
    /// Time of the first attacker-made record per victim.
    pub first_malicious: BTreeMap<String, DateTime<Utc>>,
    /// The first attacker record that is malicious in itself, when the scenario makes the
    /// records before it look like the account's own life on purpose (the quiet rule's sign-in
    /// from the account's own network, in its own country). Unset: `start`. Time to detect is
    /// measured from here, and also reported from `start`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_action: Option<DateTime<Utc>>,
    /// Reference chain: time of the first spam message.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_spam: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub app: Option<TruthApp>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub rule_names: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub forward_to: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subject: Option<String>,
    /// Domain the spam's link points to (message trace carries no body).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub link_domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub link_text: Option<String>,
    pub records: TruthRecords,
    pub steps: Vec<TruthStep>,
}

/// A benign event of a kind detections often mistake for an attack.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoiseEvent {
    pub kind: String,
    pub upn: String,
    pub time: DateTime<Utc>,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub detail: String,
    /// A few of the record ids (all of them for single-record events).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub record_ids: Vec<String>,
}

/// Reads a `truth.json`.
pub fn load_truth(path: &Path) -> Result<Truth, SimError> {
    let text = std::fs::read_to_string(path).map_err(|e| SimError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    serde_json::from_str(&text).map_err(|e| SimError::Truth(e.to_string()))
}
