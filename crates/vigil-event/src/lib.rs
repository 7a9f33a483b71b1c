//! Vigil's normalised event model.
//!
//! Every source format (Management Activity API records, Entra sign-ins in their three shapes,
//! directory audits, message trace rows) is turned into one [`Event`]. Events that Vigil
//! understands get a typed [`EventKind`]; every other record becomes [`EventKind::Generic`] and
//! keeps its original JSON in [`Event::raw`], so that models can still match on any field.
//!
//! Invariant: this crate does no I/O and holds no global state.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub mod text;
pub mod time;

/// Event time, always UTC.
pub type Timestamp = DateTime<Utc>;

/// Which log the record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Office 365 Management Activity API (unified audit log), in any of its shapes.
    Audit,
    /// Entra ID sign-in logs.
    SignIn,
    /// Entra ID directory audit logs (Graph directoryAudits, AuditLogs table/category).
    DirectoryAudit,
    /// Exchange Online message trace.
    MessageTrace,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Audit => "audit",
            Source::SignIn => "sign_in",
            Source::DirectoryAudit => "directory_audit",
            Source::MessageTrace => "message_trace",
        }
    }
}

/// The concrete shape a record arrived in. One source has several shapes in the wild.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Management Activity API records (content blob, array or lines), PascalCase or lower-cased keys.
    ManagementApi,
    /// Microsoft Sentinel / Log Analytics `OfficeActivity` table.
    OfficeActivityTable,
    /// Microsoft Graph `/auditLogs/signIns` resource.
    GraphSignIn,
    /// Azure Monitor diagnostic-settings / Event Hub envelope (`category` SignInLogs, ...).
    AzureMonitorSignIn,
    /// Log Analytics `SigninLogs` (and sibling) tables, PascalCase columns.
    LogAnalyticsSignIn,
    /// Microsoft Graph `/auditLogs/directoryAudits` resource.
    GraphDirectoryAudit,
    /// Azure Monitor envelope with `category` AuditLogs.
    AzureMonitorDirectoryAudit,
    /// Log Analytics `AuditLogs` table.
    LogAnalyticsAuditLogs,
    /// Reporting Web Service MessageTrace rows (`/Date(ms)/` timestamps).
    MessageTraceReporting,
    /// Message trace exported with ISO timestamps (Get-MessageTrace | ConvertTo-Json and friends).
    MessageTraceIso,
}

impl Format {
    pub const ALL: [Format; 10] = [
        Format::ManagementApi,
        Format::OfficeActivityTable,
        Format::GraphSignIn,
        Format::AzureMonitorSignIn,
        Format::LogAnalyticsSignIn,
        Format::GraphDirectoryAudit,
        Format::AzureMonitorDirectoryAudit,
        Format::LogAnalyticsAuditLogs,
        Format::MessageTraceReporting,
        Format::MessageTraceIso,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::ManagementApi => "management_api",
            Format::OfficeActivityTable => "office_activity_table",
            Format::GraphSignIn => "graph_sign_in",
            Format::AzureMonitorSignIn => "azure_monitor_sign_in",
            Format::LogAnalyticsSignIn => "log_analytics_sign_in",
            Format::GraphDirectoryAudit => "graph_directory_audit",
            Format::AzureMonitorDirectoryAudit => "azure_monitor_directory_audit",
            Format::LogAnalyticsAuditLogs => "log_analytics_audit_logs",
            Format::MessageTraceReporting => "message_trace_reporting",
            Format::MessageTraceIso => "message_trace_iso",
        }
    }

    pub fn parse(name: &str) -> Option<Format> {
        let wanted = name.replace('-', "_").to_ascii_lowercase();
        Format::ALL.into_iter().find(|f| f.as_str() == wanted)
    }

    pub fn source(self) -> Source {
        match self {
            Format::ManagementApi | Format::OfficeActivityTable => Source::Audit,
            Format::GraphSignIn | Format::AzureMonitorSignIn | Format::LogAnalyticsSignIn => {
                Source::SignIn
            }
            Format::GraphDirectoryAudit
            | Format::AzureMonitorDirectoryAudit
            | Format::LogAnalyticsAuditLogs => Source::DirectoryAudit,
            Format::MessageTraceReporting | Format::MessageTraceIso => Source::MessageTrace,
        }
    }
}

/// Whether the operation the record describes succeeded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    #[default]
    Unknown,
}

/// Coarse class of the client software behind a user agent or client-app string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UaClass {
    Browser,
    DesktopClient,
    MobileClient,
    /// Legacy basic authentication (BAV2ROPC, CBAInPROD, IMAP/POP/SMTP AUTH, ActiveSync basic):
    /// multi-factor authentication does not apply to it.
    LegacyAuth,
    /// Scripts, SDKs, command-line tools and automation frameworks.
    Automation,
    Unknown,
}

impl UaClass {
    pub fn as_str(self) -> &'static str {
        match self {
            UaClass::Browser => "browser",
            UaClass::DesktopClient => "desktop_client",
            UaClass::MobileClient => "mobile_client",
            UaClass::LegacyAuth => "legacy_auth",
            UaClass::Automation => "automation",
            UaClass::Unknown => "unknown",
        }
    }
}

/// What enrichment learned about the event, offline. Empty until the enrich stage has run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Enrichment {
    /// ISO 3166-1 alpha-2 country of [`Event::ip`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<CountryCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_org: Option<Arc<str>>,
    /// Class of [`Event::user_agent`] (or of the client app when there is no user agent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ua_class: Option<UaClass>,
    /// Family of the client, e.g. "Chrome", "Outlook", "BAV2ROPC", "python-requests".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ua_family: Option<Arc<str>>,
    /// Registrable domain of the acting user's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_domain: Option<Arc<str>>,
    /// Whether the IP address is private, loopback or otherwise not routable on the Internet.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub ip_internal: bool,
}

/// Two-letter country code, stored inline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Accepts any two ASCII letters, upper-casing them.
    pub fn new(code: &str) -> Option<CountryCode> {
        let b = code.as_bytes();
        if b.len() == 2 && b[0].is_ascii_alphabetic() && b[1].is_ascii_alphabetic() {
            Some(CountryCode([
                b[0].to_ascii_uppercase(),
                b[1].to_ascii_uppercase(),
            ]))
        } else {
            None
        }
    }

    pub fn as_str(&self) -> &str {
        // Constructed only from ASCII letters.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl Serialize for CountryCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        CountryCode::new(&s)
            .ok_or_else(|| serde::de::Error::custom("not a two-letter country code"))
    }
}

/// One normalised record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The source record's own id (audit `Id`, sign-in `id`, message trace id and recipient).
    pub id: Box<str>,
    /// Ids of records from other sources that describe the same happening and were merged into
    /// this one (the audit log's UserLoggedIn for an Entra sign-in, for example).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub alias_ids: Vec<Box<str>>,
    /// Set when this record describes a sign-in already passed on under that id (the other
    /// source's record arrived after the first had left the reordering window). The record is
    /// kept so that its id is not lost, but it is the same logon: count it once.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub linked_to: Option<Box<str>>,
    pub time: Timestamp,
    pub source: Source,
    pub format: Format,
    /// Operation or activity name as the source spells it, without a trailing full stop.
    /// Well-known names are shared static strings (see [`known_name`]), so most events do not
    /// allocate for it.
    pub operation: Cow<'static, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<Cow<'static, str>>,
    pub outcome: Outcome,
    /// The acting account, lower case (a UPN for users; an app id or name for service principals).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<Box<str>>,
    /// The client's IP address, without port or brackets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<Box<str>>,
    /// Request id linking the same sign-in across the audit log and Entra.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<Box<str>>,
    pub kind: EventKind,
    #[serde(default)]
    pub enrichment: Enrichment,
    /// Set when the record arrived after the reordering window had already passed its time.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub late: bool,
    /// The record exactly as it arrived (after unwrapping envelopes), so that nothing is lost.
    pub raw: Arc<str>,
}

impl Event {
    /// Whether this event has a typed variant (as opposed to [`EventKind::Generic`]).
    pub fn is_typed(&self) -> bool {
        !matches!(self.kind, EventKind::Generic)
    }

    /// Parses [`Event::raw`] and returns the field at a dotted path (`Item.Subject`), matching
    /// keys case-insensitively. Name/Value lists (`Parameters`, `ExtendedProperties`, ...) are
    /// searchable by name: `Parameters.ForwardTo`. Meant for models on generic events.
    pub fn field(&self, path: &str) -> Option<serde_json::Value> {
        let root: serde_json::Value = serde_json::from_str(&self.raw).ok()?;
        lookup_path(&root, path)
    }
}

/// Declares [`KNOWN_NAMES`] and the `match` that finds them (a length switch and a compare:
/// several times faster than searching the list, and it runs twice for every audit record).
macro_rules! known_names {
    ($($name:literal),* $(,)?) => {
        /// Operation and workload names that recur in every tenant (the tests check each).
        #[cfg(test)]
        const KNOWN_NAMES: &[&str] = &[$($name),*];

        fn known_static(name: &str) -> Option<&'static str> {
            match name {
                $($name => Some($name),)*
                _ => None,
            }
        }
    };
}

known_names![
    "Add OAuth2PermissionGrant",
    "Add app role assignment to service principal",
    "Add delegated permission grant",
    "Add member to role",
    "Add service principal",
    "Add service principal credentials",
    "AnonymousLinkCreated",
    "AzureActiveDirectory",
    "Change user password",
    "Consent to application",
    "Disable Strong Authentication",
    "Disable-InboxRule",
    "Enable-InboxRule",
    "Exchange",
    "FileAccessed",
    "FileDeleted",
    "FileDownloaded",
    "FileModified",
    "FilePreviewed",
    "FileSyncDownloadedFull",
    "FileUploaded",
    "HardDelete",
    "MailItemsAccessed",
    "MailboxLogin",
    "MessageTrace",
    "MicrosoftTeams",
    "MoveToDeletedItems",
    "New-InboxRule",
    "New-TransportRule",
    "OneDrive",
    "PageViewed",
    "Remove member from role",
    "Remove-InboxRule",
    "Reset user password",
    "SearchQueryPerformed",
    "Send",
    "SendAs",
    "SendOnBehalf",
    "Set-InboxRule",
    "Set-Mailbox",
    "Set-TransportRule",
    "SharePoint",
    "SharingSet",
    "Sign-in activity",
    "SoftDelete",
    "TeamsSessionStarted",
    "Update user",
    "UpdateInboxRules",
    "User registered security info",
    "UserLoggedIn",
    "UserLoginFailed",
];

/// `name` as a shared static string when it is a well-known operation or workload name,
/// otherwise an owned copy.
pub fn known_name(name: &str) -> Cow<'static, str> {
    match known_static(name) {
        Some(known) => Cow::Borrowed(known),
        None => Cow::Owned(name.to_owned()),
    }
}

/// Finds a dotted path in a JSON value, case-insensitively, descending into Name/Value lists and
/// into strings that themselves hold JSON (`"Parameters": "[{\"Name\":...}]"`).
pub fn lookup_path(root: &serde_json::Value, path: &str) -> Option<serde_json::Value> {
    use serde_json::Value;
    let mut current = root.clone();
    for segment in path.split('.') {
        if let Value::String(text) = &current {
            let t = text.trim_start();
            if t.starts_with('[') || t.starts_with('{') {
                current = serde_json::from_str(t).ok()?;
            }
        }
        current = match current {
            Value::Object(mut map) => {
                let key = map
                    .keys()
                    .find(|k| k.eq_ignore_ascii_case(segment))?
                    .clone();
                map.remove(&key)?
            }
            Value::Array(items) => items.into_iter().find_map(|item| {
                let Value::Object(obj) = item else {
                    return None;
                };
                let name = obj
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("name") || k.eq_ignore_ascii_case("key"))
                    .and_then(|(_, v)| v.as_str())?;
                if !name.eq_ignore_ascii_case(segment) {
                    return None;
                }
                obj.into_iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("value"))
                    .map(|(_, v)| v)
            })?,
            _ => return None,
        };
    }
    Some(current)
}

/// A Name/Value pair from `Parameters`, `ExtendedProperties`, `OperationProperties` and friends,
/// with the value rendered as text (numbers and booleans as JSON writes them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameValue {
    pub name: Box<str>,
    pub value: Box<str>,
}

/// Find a name/value by name, case-insensitively.
pub fn find_value<'a>(pairs: &'a [NameValue], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .map(|p| &*p.value)
}

/// An e-mail address with its registrable domain (filled in by enrichment).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailAddress {
    /// Lower case, without `smtp:` prefixes or angle brackets.
    pub address: Box<str>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    /// Shared with enrichment's domain table: addresses of one domain recur on every message.
    pub domain: Option<Arc<str>>,
}

impl MailAddress {
    /// Normalises `SMTP:Bob@Example.com`, `<bob@example.com>` and `"Bob" <bob@example.com>`.
    /// Returns `None` for values without an `@` (display names, mailbox identities).
    pub fn parse(text: &str) -> Option<MailAddress> {
        // Byte by byte: every delimiter here is ASCII, and this runs for every message trace
        // row, twice (the reference in the tests is the same rules in characters).
        let last = |s: &str, byte: u8| memchr::memrchr(byte, s.as_bytes());
        let mut s = text::trim(text);
        if let (Some(open), Some(close)) = (last(s, b'<'), last(s, b'>')) {
            if open < close {
                s = &s[open + 1..close];
            }
        }
        let s = text::trim(s);
        let s = text::trim_ascii_set(s, b"\"");
        // Five ASCII bytes that read `smtp:` end on a character boundary, so `&s[5..]` holds.
        let s = match s.as_bytes().get(..5) {
            Some(prefix) if s.len() > 5 && prefix.eq_ignore_ascii_case(b"smtp:") => &s[5..],
            _ => s,
        };
        let at = last(s, b'@')?;
        if at == 0 || at + 1 >= s.len() || text::has_whitespace(s) {
            return None;
        }
        let mut address = Box::<str>::from(s);
        address.make_ascii_lowercase();
        Some(MailAddress {
            address,
            domain: None,
        })
    }

    /// The part after the `@`.
    pub fn host(&self) -> &str {
        self.address.rsplit('@').next().unwrap_or("")
    }
}

/// The typed meaning of an event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    SignIn(SignIn),
    InboxRule(InboxRule),
    MailboxForwarding(MailboxForwarding),
    TransportRule(TransportRule),
    AppConsent(AppConsent),
    ServicePrincipal(ServicePrincipalChange),
    MailSend(MailSend),
    MailItemsAccessed(MailItemsAccessed),
    MailDelete(MailDelete),
    FileActivity(FileActivity),
    AccountSecurity(AccountSecurity),
    RoleMembership(RoleMembership),
    MessageTrace(MessageTrace),
    /// Any other record: all of its fields are in [`Event::raw`].
    Generic,
}

impl EventKind {
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::SignIn(_) => "sign_in",
            EventKind::InboxRule(_) => "inbox_rule",
            EventKind::MailboxForwarding(_) => "mailbox_forwarding",
            EventKind::TransportRule(_) => "transport_rule",
            EventKind::AppConsent(_) => "app_consent",
            EventKind::ServicePrincipal(_) => "service_principal",
            EventKind::MailSend(_) => "mail_send",
            EventKind::MailItemsAccessed(_) => "mail_items_accessed",
            EventKind::MailDelete(_) => "mail_delete",
            EventKind::FileActivity(_) => "file_activity",
            EventKind::AccountSecurity(_) => "account_security",
            EventKind::RoleMembership(_) => "role_membership",
            EventKind::MessageTrace(_) => "message_trace",
            EventKind::Generic => "generic",
        }
    }
}

/// What kind of principal signed in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    #[default]
    User,
    ServicePrincipal,
    ManagedIdentity,
}

/// A sign-in, from the audit log (UserLoggedIn, UserLoginFailed) or from Entra.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SignIn {
    pub succeeded: bool,
    pub principal: PrincipalKind,
    /// Whether a person was present (Entra's isInteractive; the log category otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interactive: Option<bool>,
    /// Entra error code (`status.errorCode`, `ResultType`, audit `ErrorNumber`/`ErrorCode`); 0 is success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<Box<str>>,
    /// Free text such as "MFA denied; user declined the authentication".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_details: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_name: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<Box<str>>,
    /// Entra's clientAppUsed: Browser, "Mobile Apps and Desktop clients", IMAP4, "Authenticated SMTP", ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_app: Option<Box<str>>,
    /// authenticationProtocol: ropc, deviceCode, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_protocol: Option<Box<str>>,
    /// singleFactorAuthentication or multiFactorAuthentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_requirement: Option<Box<str>>,
    /// Country Entra itself reported, kept for comparison with Vigil's own lookup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_country: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_os: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser: Option<Box<str>>,
    /// The audit log's RequestType (Login:login, OAuth2:Token, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_type: Option<Box<str>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleChange {
    New,
    Set,
    Remove,
    Enable,
    Disable,
    /// UpdateInboxRules (Outlook's client-side rule edits); the real operation is in
    /// OperationProperties' RuleOperation.
    Update,
}

/// An inbox rule created, changed or removed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InboxRule {
    pub change: RuleChange,
    /// The mailbox the rule belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_name: Option<Box<str>>,
    /// Forward, redirect and forward-as-attachment targets.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub forward_to: Vec<MailAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub move_to_folder: Option<Box<str>>,
    pub deletes: bool,
    pub marks_as_read: bool,
    pub stops_processing: bool,
    /// Words or senders the rule matches (SubjectContainsWords, From, ...), as given.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub conditions: Vec<NameValue>,
    /// Every parameter or operation property of the record, as given.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub parameters: Vec<NameValue>,
}

/// Mailbox-level forwarding set or cleared (Set-Mailbox and friends).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MailboxForwarding {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<Box<str>>,
    /// ForwardingSmtpAddress and ForwardingAddress that carry an address.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub forward_to: Vec<MailAddress>,
    /// ForwardingAddress given as a recipient name rather than an address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forwarding_recipient: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliver_and_forward: Option<bool>,
    /// Forwarding was set to empty: the change removes it.
    pub cleared: bool,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub parameters: Vec<NameValue>,
}

/// An Exchange transport (mail flow) rule created or changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransportRule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_name: Option<Box<str>>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub forward_to: Vec<MailAddress>,
    pub deletes: bool,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub parameters: Vec<NameValue>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentKind {
    /// "Consent to application."
    ConsentToApplication,
    /// "Add OAuth2PermissionGrant." / "Add delegated permission grant"
    DelegatedPermissionGrant,
    /// "Add app role assignment to service principal."
    AppRoleAssignment,
}

/// Permissions granted to an application.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppConsent {
    pub consent: ConsentKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_name: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<Box<str>>,
    /// Delegated scopes or app roles, e.g. Mail.ReadWrite, offline_access.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub scopes: Vec<Box<str>>,
    /// Consent given by an administrator on behalf of every user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_consent: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServicePrincipalChangeKind {
    Added,
    CredentialsAdded,
    Updated,
    Removed,
}

/// A service principal or application registration changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServicePrincipalChange {
    pub change: ServicePrincipalChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_name: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<Box<str>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendMode {
    Send,
    SendAs,
    SendOnBehalf,
}

/// A message sent from a mailbox (mailbox audit Send, SendAs, SendOnBehalf).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MailSend {
    pub mode: SendMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internet_message_id: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_app_id: Option<Box<str>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailAccessType {
    Bind,
    Sync,
    Unknown,
}

/// Mailbox items read (MailItemsAccessed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MailItemsAccessed {
    pub access_type: MailAccessType,
    /// Aggregated count of identical accesses (OperationCount), at least 1.
    pub operation_count: u64,
    /// Messages named in Folders, when the record lists them.
    pub item_count: u64,
    pub throttled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<Box<str>>,
    /// The application that read the mail (AppId / ClientAppId).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_info: Option<Box<str>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteMode {
    SoftDelete,
    HardDelete,
    MoveToDeletedItems,
}

/// Mail deleted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MailDelete {
    pub mode: DeleteMode,
    pub item_count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<Box<str>>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub subjects: Vec<Box<str>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileOperation {
    Accessed,
    Downloaded,
    SyncDownloadedFull,
    Uploaded,
    Deleted,
    SharingSet,
    AnonymousLinkCreated,
}

/// SharePoint / OneDrive file activity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileActivity {
    pub operation: FileOperation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<Box<str>>,
    /// Full URL of the object (ObjectId).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_url: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_url: Option<Box<str>>,
    /// Registrable domain of the site (filled in by enrichment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_domain: Option<Arc<str>>,
    /// The user a sharing change targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_user: Option<Box<str>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityChange {
    /// "User registered security info." (a new MFA method)
    SecurityInfoRegistered,
    /// "User deleted security info."
    SecurityInfoDeleted,
    /// "Update user." touching StrongAuthentication* properties.
    StrongAuthenticationChanged,
    /// "Disable Strong Authentication."
    StrongAuthenticationDisabled,
    /// "Reset user password." and related.
    PasswordReset,
    /// "Change user password."
    PasswordChanged,
}

/// Authentication settings of an account changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountSecurity {
    pub change: SecurityChange,
    /// The account whose settings changed (may differ from the actor).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_user: Option<Box<str>>,
    /// Modified property names, e.g. StrongAuthenticationMethod.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub properties: Vec<Box<str>>,
}

/// A directory role membership change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleMembership {
    pub added: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_user: Option<Box<str>>,
}

/// One message trace row: one message to one recipient.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageTrace {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_trace_id: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<MailAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<MailAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Box<str>>,
    /// Delivered, Failed, Pending, Quarantined, FilteredAsSpam, Expanded, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_address_normalises_prefixes_and_brackets() {
        let a = MailAddress::parse("SMTP:Peter.Griffin@FamilyGuy.com").unwrap();
        assert_eq!(&*a.address, "peter.griffin@familyguy.com");
        assert_eq!(a.host(), "familyguy.com");
        let b = MailAddress::parse("\"Bob\" <bob@example.org>").unwrap();
        assert_eq!(&*b.address, "bob@example.org");
        assert!(MailAddress::parse("Delete and Forward Rule").is_none());
        assert!(MailAddress::parse("@example.org").is_none());
        assert!(MailAddress::parse("bob@").is_none());
        // Multi-byte characters where the `smtp:` prefix would end.
        assert!(MailAddress::parse("🕴𠂭").is_none());
        assert!(MailAddress::parse("é@é.fr").is_some());
        // Whitespace inside is not an address, ASCII or not (no-break space, vertical tab).
        assert!(MailAddress::parse("bob smith@example.org").is_none());
        assert!(MailAddress::parse("bob\u{0B}smith@example.org").is_none());
        assert!(MailAddress::parse("bob\u{A0}smith@exämple.org").is_none());
    }

    /// The rules of [`MailAddress::parse`] in characters, as they were written first.
    fn parse_address_reference(text: &str) -> Option<Box<str>> {
        let mut s = text.trim();
        if let (Some(open), Some(close)) = (s.rfind('<'), s.rfind('>')) {
            if open < close {
                s = &s[open + 1..close];
            }
        }
        let s = s.trim().trim_matches('"');
        let s = match s.get(..5) {
            Some(prefix) if s.len() > 5 && prefix.eq_ignore_ascii_case("smtp:") => &s[5..],
            _ => s,
        };
        let at = s.rfind('@')?;
        if at == 0 || at + 1 >= s.len() || s.contains(char::is_whitespace) {
            return None;
        }
        Some(s.to_ascii_lowercase().into())
    }

    proptest::proptest! {
        #[test]
        fn mail_address_parse_follows_the_reference(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just("<"), proptest::strategy::Just(">"),
                    proptest::strategy::Just("\""), proptest::strategy::Just("@"),
                    proptest::strategy::Just("SMTP:"), proptest::strategy::Just("smtp"),
                    proptest::strategy::Just(":"), proptest::strategy::Just(" "),
                    proptest::strategy::Just("\u{A0}"), proptest::strategy::Just("\t"),
                    proptest::strategy::Just("Bob"), proptest::strategy::Just("x.org"),
                    proptest::strategy::Just("é"), proptest::strategy::Just("𠂭"),
                ],
                0..10,
            )
        ) {
            let text = parts.concat();
            let parsed = MailAddress::parse(&text).map(|a| a.address);
            proptest::prop_assert_eq!(parsed, parse_address_reference(&text), "{:?}", text);
        }
    }

    #[test]
    fn lookup_path_is_case_insensitive_and_reads_name_value_lists() {
        let v: serde_json::Value = serde_json::json!({
            "Parameters": [{"name": "ForwardTo", "value": "x@y.z"}],
            "Item": {"Subject": "hi"}
        });
        assert_eq!(lookup_path(&v, "parameters.forwardto").unwrap(), "x@y.z");
        assert_eq!(lookup_path(&v, "item.subject").unwrap(), "hi");
        assert!(lookup_path(&v, "item.missing").is_none());
        // Lists delivered as a string holding JSON, as the OfficeActivity table stores them.
        let s = serde_json::json!({"Parameters": "[{\"Name\":\"ForwardTo\",\"Value\":\"a@b.c\"}]"});
        assert_eq!(lookup_path(&s, "Parameters.ForwardTo").unwrap(), "a@b.c");
    }

    #[test]
    fn known_names_are_shared() {
        for name in KNOWN_NAMES {
            assert!(matches!(known_name(name), Cow::Borrowed(n) if n == *name));
        }
        assert!(matches!(known_name("UserLoggedIn"), Cow::Borrowed(_)));
        assert!(matches!(
            known_name("Set-ConditionalAccessPolicy"),
            Cow::Owned(_)
        ));
    }

    #[test]
    fn country_code_rejects_non_letters() {
        assert_eq!(CountryCode::new("ng").unwrap().as_str(), "NG");
        assert!(CountryCode::new("N1").is_none());
        assert!(CountryCode::new("NGA").is_none());
    }

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::parse(f.as_str()), Some(f));
        }
        assert_eq!(Format::parse("management-api"), Some(Format::ManagementApi));
    }
}
