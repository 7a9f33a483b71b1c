//! Office 365 Management Activity API records (all content types), as the API returns them, as
//! Sentinel's `OfficeActivity` table stores them, and with keys lower-cased as some pipelines do.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use vigil_event::text::{is_blank, trim};
use vigil_event::{
    find_value, DeleteMode, Event, EventKind, FileActivity, FileOperation, Format, InboxRule,
    MailAccessType, MailDelete, MailItemsAccessed, MailSend, MailboxForwarding, NameValue, Outcome,
    RuleChange, SendMode, SignIn, Source, TransportRule,
};

use crate::directory::{self, DirectoryView, Target};
use crate::lenient::{
    extract_addresses, json_in_string, json_or_string, name_values, normalise_operation,
    normalise_user, old_values, parse_bool, parse_client_ip, scalars_read_as, skip_map, skip_seq,
    value_text, FieldNames, Fields, Int, Pairs, Text,
};
use crate::FieldError;

#[derive(Deserialize)]
pub(crate) struct AuditRecord<'a> {
    // The OfficeActivity table's names (OfficeId, TimeGenerated, OfficeWorkload, OfficeObjectId,
    // Site_Url) are fields of their own rather than serde aliases: a Management API record copied
    // into a Log Analytics custom table carries both names, and serde rejects an alias that
    // appears beside its field as a duplicate.
    #[serde(borrow, rename = "Id", alias = "id")]
    id: Option<Text<'a>>,
    #[serde(borrow, rename = "OfficeId", alias = "officeid")]
    office_id: Option<Text<'a>>,
    #[serde(borrow, rename = "CreationTime", alias = "creationtime")]
    creation_time: Option<Text<'a>>,
    #[serde(borrow, rename = "TimeGenerated", alias = "timegenerated")]
    time_generated: Option<Text<'a>>,
    #[serde(borrow, rename = "Operation", alias = "operation")]
    operation: Option<Text<'a>>,
    #[serde(borrow, rename = "Workload", alias = "workload")]
    workload: Option<Text<'a>>,
    #[serde(borrow, rename = "OfficeWorkload", alias = "officeworkload")]
    office_workload: Option<Text<'a>>,
    #[serde(borrow, rename = "ResultStatus", alias = "resultstatus")]
    result_status: Option<Text<'a>>,
    #[serde(borrow, rename = "UserId", alias = "userid")]
    user_id: Option<Text<'a>>,
    #[serde(borrow, rename = "ObjectId", alias = "objectid")]
    object_id: Option<Text<'a>>,
    #[serde(borrow, rename = "OfficeObjectId", alias = "officeobjectid")]
    office_object_id: Option<Text<'a>>,
    #[serde(borrow, rename = "ClientIP", alias = "clientip")]
    client_ip: Option<Text<'a>>,
    #[serde(borrow, rename = "ClientIPAddress", alias = "clientipaddress")]
    client_ip_address: Option<Text<'a>>,
    #[serde(borrow, rename = "Client_IPAddress", alias = "client_ipaddress")]
    client_ip_underscore: Option<Text<'a>>,
    #[serde(borrow, rename = "ActorIpAddress", alias = "actoripaddress")]
    actor_ip: Option<Text<'a>>,
    #[serde(borrow, rename = "UserAgent", alias = "useragent")]
    user_agent: Option<Text<'a>>,
    #[serde(
        borrow,
        rename = "ExtendedProperties",
        alias = "extendedproperties",
        default
    )]
    extended_properties: Pairs<'a>,
    #[serde(borrow, rename = "ModifiedProperties", alias = "modifiedproperties")]
    modified_properties: Option<&'a RawValue>,
    /// Exchange cmdlet parameters, often delivered as a string holding the list.
    #[serde(borrow, rename = "Parameters", alias = "parameters", default)]
    parameters: Pairs<'a>,
    #[serde(
        borrow,
        rename = "OperationProperties",
        alias = "operationproperties",
        default
    )]
    operation_properties: Pairs<'a>,
    #[serde(rename = "Folders", alias = "folders", default)]
    folders: FolderItemCount,
    #[serde(borrow, rename = "AffectedItems", alias = "affecteditems")]
    affected_items: Option<&'a RawValue>,
    #[serde(borrow, rename = "Item", alias = "item", default)]
    item: Fields<'a, ItemFields, 2>,
    #[serde(borrow, rename = "Target", alias = "target")]
    target: Option<&'a RawValue>,
    #[serde(borrow, rename = "ErrorNumber", alias = "errornumber")]
    error_number: Option<Text<'a>>,
    #[serde(borrow, rename = "ErrorCode", alias = "errorcode")]
    error_code: Option<Text<'a>>,
    #[serde(borrow, rename = "LogonError", alias = "logonerror")]
    logon_error: Option<Text<'a>>,
    #[serde(borrow, rename = "InterSystemsId", alias = "intersystemsid")]
    inter_systems_id: Option<Text<'a>>,
    #[serde(borrow, rename = "IntraSystemId", alias = "intrasystemid")]
    intra_system_id: Option<Text<'a>>,
    #[serde(borrow, rename = "ApplicationId", alias = "applicationid")]
    application_id: Option<Text<'a>>,
    #[serde(borrow, rename = "AppId", alias = "appid")]
    app_id: Option<Text<'a>>,
    #[serde(borrow, rename = "ClientAppId", alias = "clientappid")]
    client_app_id: Option<Text<'a>>,
    #[serde(borrow, rename = "ClientInfoString", alias = "clientinfostring")]
    client_info: Option<Text<'a>>,
    #[serde(rename = "OperationCount", alias = "operationcount", default)]
    operation_count: Int,
    #[serde(borrow, rename = "MailboxOwnerUPN", alias = "mailboxownerupn")]
    mailbox_owner: Option<Text<'a>>,
    #[serde(borrow, rename = "SiteUrl", alias = "siteurl")]
    site_url: Option<Text<'a>>,
    #[serde(borrow, rename = "Site_Url", alias = "site_url")]
    site_url_underscore: Option<Text<'a>>,
    #[serde(borrow, rename = "SourceFileName", alias = "sourcefilename")]
    source_file_name: Option<Text<'a>>,
    #[serde(
        borrow,
        rename = "TargetUserOrGroupName",
        alias = "targetuserorgroupname"
    )]
    target_user_or_group: Option<Text<'a>>,
}

impl AuditRecord<'_> {
    /// ObjectId, or the OfficeActivity table's OfficeObjectId.
    fn object_id(&self) -> Option<&str> {
        text(&self.object_id).or(text(&self.office_object_id))
    }

    /// SiteUrl, or the OfficeActivity table's Site_Url.
    fn site_url(&self) -> Option<&str> {
        text(&self.site_url).or(text(&self.site_url_underscore))
    }
}

fn text<'s>(t: &'s Option<Text>) -> Option<&'s str> {
    t.as_ref().map(Text::as_str).filter(|s| !is_blank(s))
}

fn boxed(t: &Option<Text>) -> Option<Box<str>> {
    text(t).map(|s| trim(s).into())
}

/// Deserialises the record into its typed form and nothing more: the baseline the ingest
/// benchmark compares the whole path against.
pub fn deserialize_only(raw: &str) -> Result<(), serde_json::Error> {
    serde_json::from_str::<AuditRecord>(raw).map(drop)
}

/// Parses one Management Activity API or OfficeActivity record.
pub fn parse(raw: &str, format: Format) -> Result<Event, FieldError> {
    parse_shared(raw, None, format)
}

/// [`parse`], keeping `shared` as the event's raw text when it holds exactly `raw`.
pub fn parse_shared(
    raw: &str,
    shared: Option<&Arc<str>>,
    format: Format,
) -> Result<Event, FieldError> {
    let rec: AuditRecord = serde_json::from_str(raw).map_err(FieldError::json)?;
    from_record(rec, raw, shared, format)
}

/// The second step of [`parse_shared`]: the typed record (deserialised from `raw`) as an event.
pub(crate) fn from_record(
    rec: AuditRecord<'_>,
    raw: &str,
    shared: Option<&Arc<str>>,
    format: Format,
) -> Result<Event, FieldError> {
    let operation_raw = text(&rec.operation).ok_or_else(|| FieldError::missing("Operation"))?;
    let (time_field, time_text) = match (text(&rec.creation_time), text(&rec.time_generated)) {
        (Some(t), _) => ("CreationTime", t),
        (None, Some(t)) => ("TimeGenerated", t),
        (None, None) => return Err(FieldError::missing("CreationTime")),
    };
    let time = vigil_event::time::parse_timestamp(time_text)
        .map_err(|reason| FieldError::new(time_field, reason))?;
    let id: Box<str> = match text(&rec.id).or(text(&rec.office_id)) {
        Some(id) => trim(id).into(),
        None => return Err(FieldError::missing("Id")),
    };
    let operation = normalise_operation(operation_raw);
    let extended = Extended::of(&rec);
    let ip = [
        &rec.client_ip,
        &rec.client_ip_address,
        &rec.client_ip_underscore,
        &rec.actor_ip,
    ]
    .into_iter()
    .find_map(|t| text(t).and_then(parse_client_ip));
    let user_agent = boxed(&rec.user_agent)
        .or_else(|| extended.user_agent.map(|s| trim(s).into()))
        .filter(|s| !s.is_empty());
    let outcome = match text(&rec.result_status).map(trim) {
        Some(s) if one_of(s, &["success", "succeeded", "true", "partiallysucceeded"]) => {
            Outcome::Success
        }
        Some(s) if one_of(s, &["failed", "failure", "false"]) => Outcome::Failure,
        _ => Outcome::Unknown,
    };
    let mut event = Event {
        id,
        alias_ids: Vec::new(),
        linked_to: None,
        time,
        source: Source::Audit,
        format,
        operation: vigil_event::known_name(operation),
        workload: text(&rec.workload)
            .or_else(|| text(&rec.office_workload))
            .map(|w| vigil_event::known_name(trim(w))),
        outcome,
        user: text(&rec.user_id).and_then(normalise_user),
        ip,
        user_agent,
        request_id: boxed(&rec.intra_system_id),
        correlation_id: boxed(&rec.inter_systems_id),
        kind: EventKind::Generic,
        enrichment: Default::default(),
        late: false,
        raw: crate::share(raw, shared),
    };
    event.kind = classify(&rec, &mut event, &extended);
    Ok(event)
}

/// Whether `s` is one of `names` (lower case), ignoring ASCII case.
fn one_of(s: &str, names: &[&str]) -> bool {
    names.iter().any(|n| n.eq_ignore_ascii_case(s))
}

/// Operation names this parser types, longest first; anything longer is generic.
const LONGEST_TYPED_OPERATION: usize = "passwordlogoninitialauthusingpassword".len();

/// The ExtendedProperties an audit record's event uses.
struct Extended<'a> {
    user_agent: Option<&'a str>,
    login_error: Option<&'a str>,
    request_type: Option<&'a str>,
}

impl<'a> Extended<'a> {
    fn of(rec: &'a AuditRecord) -> Self {
        let [user_agent, login_error, request_type] =
            rec.extended_properties
                .values(["UserAgent", "LoginError", "RequestType"]);
        Extended {
            user_agent,
            login_error,
            request_type,
        }
    }
}

fn classify(rec: &AuditRecord, event: &mut Event, extended: &Extended) -> EventKind {
    // Lower-cased on the stack: this runs for every audit record.
    let mut buf = [0u8; LONGEST_TYPED_OPERATION];
    let name = event.operation.as_bytes();
    let op = match buf.get_mut(..name.len()) {
        Some(lower) => {
            lower.copy_from_slice(name);
            lower.make_ascii_lowercase();
            std::str::from_utf8(lower).unwrap_or("")
        }
        None => "",
    };
    match op {
        "userloggedin" | "userloginfailed" | "passwordlogoninitialauthusingpassword" => {
            sign_in(rec, event, extended, op)
        }
        "new-inboxrule" | "set-inboxrule" | "remove-inboxrule" | "enable-inboxrule"
        | "disable-inboxrule" | "updateinboxrules" => inbox_rule(rec, event, op),
        "set-mailbox" => mailbox_forwarding(rec).unwrap_or(EventKind::Generic),
        "new-transportrule" | "set-transportrule" => transport_rule(rec),
        "send" | "sendas" | "sendonbehalf" => {
            let [subject, message_id] = &rec.item.values;
            let item_field = |field: &Option<Text>| {
                field
                    .as_ref()
                    .filter(|t| !t.as_str().is_empty())
                    .map(|t| t.as_str().into())
            };
            EventKind::MailSend(MailSend {
                mode: match op {
                    "send" => SendMode::Send,
                    "sendas" => SendMode::SendAs,
                    _ => SendMode::SendOnBehalf,
                },
                mailbox: text(&rec.mailbox_owner).and_then(normalise_user),
                subject: item_field(subject),
                internet_message_id: item_field(message_id),
                client_app_id: boxed(&rec.client_app_id),
            })
        }
        "mailitemsaccessed" => {
            let [access, throttled] = rec
                .operation_properties
                .values(["MailAccessType", "IsThrottled"]);
            let access_type = match access {
                Some(v) if v.eq_ignore_ascii_case("bind") => MailAccessType::Bind,
                Some(v) if v.eq_ignore_ascii_case("sync") => MailAccessType::Sync,
                _ => MailAccessType::Unknown,
            };
            let item_count = rec.folders.0;
            EventKind::MailItemsAccessed(MailItemsAccessed {
                access_type,
                operation_count: rec.operation_count.0.unwrap_or(1).max(1) as u64,
                item_count,
                throttled: throttled.and_then(parse_bool).unwrap_or(false),
                mailbox: text(&rec.mailbox_owner).and_then(normalise_user),
                app_id: boxed(&rec.app_id).or_else(|| boxed(&rec.client_app_id)),
                client_info: boxed(&rec.client_info),
            })
        }
        "softdelete" | "harddelete" | "movetodeleteditems" => {
            let items = json_or_string(rec.affected_items);
            let (item_count, subjects) = match &items {
                Some(serde_json::Value::Array(list)) => (
                    list.len() as u64,
                    list.iter()
                        .filter_map(|i| i.as_object())
                        .filter_map(|o| crate::lenient::get_ci(o, "Subject"))
                        .map(|s| value_text(s).into())
                        .take(20)
                        .collect(),
                ),
                _ => (rec.operation_count.0.unwrap_or(1).max(1) as u64, Vec::new()),
            };
            EventKind::MailDelete(MailDelete {
                mode: match op {
                    "softdelete" => DeleteMode::SoftDelete,
                    "harddelete" => DeleteMode::HardDelete,
                    _ => DeleteMode::MoveToDeletedItems,
                },
                item_count,
                mailbox: text(&rec.mailbox_owner).and_then(normalise_user),
                subjects,
            })
        }
        "fileaccessed"
        | "filedownloaded"
        | "filesyncdownloadedfull"
        | "fileuploaded"
        | "filedeleted"
        | "sharingset"
        | "anonymouslinkcreated" => EventKind::FileActivity(FileActivity {
            operation: match op {
                "fileaccessed" => FileOperation::Accessed,
                "filedownloaded" => FileOperation::Downloaded,
                "filesyncdownloadedfull" => FileOperation::SyncDownloadedFull,
                "fileuploaded" => FileOperation::Uploaded,
                "filedeleted" => FileOperation::Deleted,
                "sharingset" => FileOperation::SharingSet,
                _ => FileOperation::AnonymousLinkCreated,
            },
            file_name: boxed(&rec.source_file_name),
            object_url: rec.object_id().map(|s| trim(s).into()),
            site_url: rec.site_url().map(|s| trim(s).into()),
            site_domain: None,
            target_user: text(&rec.target_user_or_group).and_then(normalise_user),
        }),
        _ => {
            let modified = name_values(rec.modified_properties);
            let previous = old_values(rec.modified_properties);
            let targets = audit_targets(rec.target);
            let view = DirectoryView {
                operation: &event.operation,
                modified,
                previous,
                targets,
                object_id: rec.object_id(),
            };
            directory::classify(&view).unwrap_or(EventKind::Generic)
        }
    }
}

/// The names an `Item` (a sent message) is read for.
struct ItemFields;

impl FieldNames<2> for ItemFields {
    const NAMES: [&'static str; 2] = ["Subject", "InternetMessageId"];
}

/// How many messages `Folders` lists (the `FolderItems` of every folder, keys in any case),
/// counted in the record's own pass; a list delivered as a string is read too, and any other
/// shape counts none.
#[derive(Default)]
struct FolderItemCount(u64);

impl<'de> Deserialize<'de> for FolderItemCount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        /// One folder's item count, or zero for anything that is not a folder object.
        struct Folder(u64);
        impl<'de> Deserialize<'de> for Folder {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Folder;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a folder")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Folder, A::Error> {
                        let mut count = 0;
                        while let Some(key) = map.next_key::<Text<'de>>()? {
                            if key.as_str().eq_ignore_ascii_case("FolderItems") {
                                count = map.next_value::<Count>()?.0;
                            } else {
                                map.next_value::<IgnoredAny>()?;
                            }
                        }
                        Ok(Folder(count))
                    }
                    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Folder, A::Error> {
                        skip_seq(seq).map(|()| Folder(0))
                    }
                    fn visit_str<E>(self, _: &str) -> Result<Folder, E> {
                        Ok(Folder(0))
                    }
                    scalars_read_as!(Folder, Folder(0));
                }
                d.deserialize_any(V)
            }
        }
        /// The length of a list; zero for anything else.
        struct Count(u64);
        impl<'de> Deserialize<'de> for Count {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Count;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a list")
                    }
                    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                        let mut n = 0;
                        while seq.next_element::<IgnoredAny>()?.is_some() {
                            n += 1;
                        }
                        Ok(Count(n))
                    }
                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Count, A::Error> {
                        skip_map(map).map(|()| Count(0))
                    }
                    fn visit_str<E>(self, _: &str) -> Result<Count, E> {
                        Ok(Count(0))
                    }
                    scalars_read_as!(Count, Count(0));
                }
                d.deserialize_any(V)
            }
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FolderItemCount;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of folders")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FolderItemCount, A::Error> {
                let mut total = 0;
                while let Some(folder) = seq.next_element::<Folder>()? {
                    total += folder.0;
                }
                Ok(FolderItemCount(total))
            }
            fn visit_str<E>(self, v: &str) -> Result<FolderItemCount, E> {
                Ok(json_in_string(v, '[').unwrap_or_default())
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FolderItemCount, A::Error> {
                skip_map(map).map(|()| FolderItemCount(0))
            }
            scalars_read_as!(FolderItemCount, FolderItemCount(0));
        }
        d.deserialize_any(V)
    }
}

fn audit_targets(raw: Option<&RawValue>) -> Vec<Target> {
    let Some(serde_json::Value::Array(items)) = json_or_string(raw) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|t| t.as_object())
        .map(|t| {
            let id = crate::lenient::get_ci(t, "ID").map(value_text);
            let kind = crate::lenient::get_ci(t, "Type").map(value_text);
            Target {
                upn: (kind.as_deref() == Some("5"))
                    .then(|| id.clone())
                    .flatten()
                    .filter(|u| u.contains('@')),
                id,
                name: None,
                kind,
            }
        })
        .collect()
}

fn sign_in(rec: &AuditRecord, event: &mut Event, extended: &Extended, op: &str) -> EventKind {
    let error_code = [&rec.error_number, &rec.error_code]
        .into_iter()
        .find_map(|t| text(t).and_then(|s| s.trim().parse::<i64>().ok()));
    // UserLoginFailed arrives with ResultStatus "Success" (the record was written successfully):
    // the operation, not the status, says whether the logon failed.
    let succeeded = match op {
        "userloggedin" => true,
        "userloginfailed" => false,
        _ => event.outcome == Outcome::Success,
    };
    event.outcome = if succeeded {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    EventKind::SignIn(SignIn {
        succeeded,
        error_code: error_code.or(Some(0).filter(|_| succeeded)),
        failure_reason: boxed(&rec.logon_error).or_else(|| extended.login_error.map(Into::into)),
        app_id: boxed(&rec.application_id),
        request_type: extended.request_type.map(Into::into),
        interactive: None,
        ..Default::default()
    })
}

fn rule_parameters(rec: &AuditRecord) -> Vec<NameValue> {
    let mut params = rec.parameters.to_name_values();
    params.extend(rec.operation_properties.to_name_values());
    params
}

/// Parameters that describe what a rule does or is, rather than what it matches.
const RULE_META: &[&str] = &[
    "Name",
    "Identity",
    "Mailbox",
    "Force",
    "AlwaysDeleteOutlookRulesBlob",
    "StopProcessingRules",
    "MoveToFolder",
    "CopyToFolder",
    "DeleteMessage",
    "SoftDeleteMessage",
    "MarkAsRead",
    "MarkImportance",
    "ForwardTo",
    "RedirectTo",
    "ForwardAsAttachmentTo",
    "Enabled",
    "Priority",
    "RuleName",
    "RuleActions",
    "RuleOperation",
    "RuleId",
    "RuleState",
    "ProviderName",
    "DomainController",
    "Confirm",
    "ErrorAction",
];

fn inbox_rule(rec: &AuditRecord, event: &Event, op: &str) -> EventKind {
    let params = rule_parameters(rec);
    let p = |name: &str| {
        find_value(&params, name)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let flag = |name: &str| p(name).and_then(parse_bool).unwrap_or(false);
    let mut change = match op {
        "new-inboxrule" => RuleChange::New,
        "set-inboxrule" => RuleChange::Set,
        "remove-inboxrule" => RuleChange::Remove,
        "enable-inboxrule" => RuleChange::Enable,
        "disable-inboxrule" => RuleChange::Disable,
        _ => RuleChange::Update,
    };
    let mut forward_to = Vec::new();
    for key in ["ForwardTo", "RedirectTo", "ForwardAsAttachmentTo"] {
        if let Some(v) = p(key) {
            forward_to.extend(extract_addresses(v));
        }
    }
    let mut move_to_folder = p("MoveToFolder").map(Into::into);
    let mut deletes = flag("DeleteMessage") || flag("SoftDeleteMessage");
    let mut marks_as_read = flag("MarkAsRead");
    // Outlook's client-side edits (UpdateInboxRules) describe actions in RuleActions, a JSON
    // string, and the real change in RuleOperation.
    if let Some(actions) = p("RuleActions") {
        let parsed: Option<serde_json::Value> = serde_json::from_str(actions).ok();
        let lower = actions.to_ascii_lowercase();
        deletes |= lower.contains("delete");
        marks_as_read |= lower.contains("markasread") || lower.contains("mark as read");
        forward_to.extend(extract_addresses(actions));
        if move_to_folder.is_none() {
            move_to_folder = parsed.as_ref().and_then(find_folder).map(Into::into);
        }
    }
    match p("RuleOperation").map(str::to_ascii_lowercase).as_deref() {
        Some(o) if o.contains("add") => change = RuleChange::New,
        Some(o) if o.contains("remove") || o.contains("delete") => change = RuleChange::Remove,
        Some(o) if o.contains("modify") => change = RuleChange::Set,
        _ => {}
    }
    let rule_name = p("Name").or_else(|| p("RuleName")).or_else(|| {
        // Set-InboxRule and Remove-InboxRule name the rule as "mailbox\rule".
        p("Identity").map(|id| id.rsplit('\\').next().unwrap_or(id))
    });
    let conditions = params
        .iter()
        .filter(|nv| !RULE_META.iter().any(|m| m.eq_ignore_ascii_case(&nv.name)))
        .cloned()
        .collect();
    let mailbox = p("Mailbox")
        .filter(|m| m.contains('@'))
        .map(|m| m.to_lowercase().into())
        .or_else(|| {
            rec.object_id()
                .filter(|o| o.contains('@'))
                .map(|o| o.split('\\').next().unwrap_or(o).to_lowercase().into())
        })
        .or_else(|| text(&rec.mailbox_owner).and_then(normalise_user))
        .or_else(|| event.user.clone());
    EventKind::InboxRule(InboxRule {
        change,
        mailbox,
        rule_name: rule_name.map(Into::into),
        forward_to,
        move_to_folder,
        deletes,
        marks_as_read,
        stops_processing: flag("StopProcessingRules"),
        conditions,
        parameters: params,
    })
}

fn find_folder(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Object(o) => {
            for (k, val) in o {
                let kl = k.to_ascii_lowercase();
                if (kl == "folder" || kl == "folderpath" || kl == "path" || kl == "foldername")
                    && val.is_string()
                {
                    return Some(value_text(val));
                }
            }
            o.values().find_map(find_folder)
        }
        serde_json::Value::Array(items) => items.iter().find_map(find_folder),
        _ => None,
    }
}

fn mailbox_forwarding(rec: &AuditRecord) -> Option<EventKind> {
    let params = rec.parameters.to_name_values();
    let has = |name: &str| params.iter().any(|p| p.name.eq_ignore_ascii_case(name));
    if !has("ForwardingSmtpAddress")
        && !has("ForwardingAddress")
        && !has("DeliverToMailboxAndForward")
    {
        return None;
    }
    let p = |name: &str| {
        find_value(&params, name)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let mut forward_to = Vec::new();
    let mut forwarding_recipient = None;
    if let Some(v) = p("ForwardingSmtpAddress") {
        forward_to.extend(extract_addresses(v));
    }
    if let Some(v) = p("ForwardingAddress") {
        let found = extract_addresses(v);
        if found.is_empty() {
            forwarding_recipient = Some(v.into());
        }
        forward_to.extend(found);
    }
    // `-ForwardingSmtpAddress $null` (or an empty ForwardingAddress) removes forwarding; a change
    // of DeliverToMailboxAndForward alone clears nothing.
    let cleared = (has("ForwardingSmtpAddress") || has("ForwardingAddress"))
        && forward_to.is_empty()
        && forwarding_recipient.is_none();
    Some(EventKind::MailboxForwarding(MailboxForwarding {
        mailbox: p("Identity")
            .map(|s| s.to_lowercase().into())
            .or_else(|| rec.object_id().map(|s| s.trim().to_lowercase().into())),
        forward_to,
        forwarding_recipient,
        deliver_and_forward: p("DeliverToMailboxAndForward").and_then(parse_bool),
        cleared,
        parameters: params,
    }))
}

fn transport_rule(rec: &AuditRecord) -> EventKind {
    let params = rec.parameters.to_name_values();
    let p = |name: &str| {
        find_value(&params, name)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let mut forward_to = Vec::new();
    for key in [
        "RedirectMessageTo",
        "BlindCopyTo",
        "CopyTo",
        "AddToRecipients",
        "AddManagerAsRecipientType",
    ] {
        if let Some(v) = p(key) {
            forward_to.extend(extract_addresses(v));
        }
    }
    EventKind::TransportRule(TransportRule {
        rule_name: p("Name").or_else(|| p("Identity")).map(Into::into),
        forward_to,
        deletes: p("DeleteMessage").and_then(parse_bool).unwrap_or(false),
        parameters: params,
    })
}
