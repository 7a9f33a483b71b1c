//! Entra ID sign-ins and directory audits in the three shapes people have them: Microsoft Graph
//! (`/auditLogs/signIns`, `/auditLogs/directoryAudits`), the Azure Monitor diagnostic-settings /
//! Event Hub envelope (categories SignInLogs, NonInteractiveUserSignInLogs,
//! ServicePrincipalSignInLogs, ManagedIdentitySignInLogs, AuditLogs), and the Log Analytics
//! tables (`SigninLogs` and siblings, `AuditLogs`) with PascalCase columns.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use vigil_event::{Event, EventKind, Format, Outcome, PrincipalKind, SignIn, Source};

use crate::directory::{self, DirectoryView, Target};
use crate::lenient::{
    get_ci, json_or_string, name_values_of, normalise_operation, normalise_user, old_values_of,
    parse_client_ip, value_text, Bool, FieldNames, Fields, Int, Text,
};
use crate::{content_id, FieldError};

/// Graph's camelCase and Log Analytics' PascalCase names for the same sign-in fields, and both
/// lower-cased as some pipelines (Splunk, Logstash, custom tables) store them.
#[derive(Deserialize)]
pub(crate) struct SignInRecord<'a> {
    #[serde(borrow, rename = "id", alias = "Id")]
    id: Option<Text<'a>>,
    #[serde(
        borrow,
        rename = "createdDateTime",
        alias = "CreatedDateTime",
        alias = "createddatetime"
    )]
    created: Option<Text<'a>>,
    #[serde(borrow, rename = "TimeGenerated", alias = "timegenerated")]
    time_generated: Option<Text<'a>>,
    #[serde(
        borrow,
        rename = "userPrincipalName",
        alias = "UserPrincipalName",
        alias = "userprincipalname"
    )]
    upn: Option<Text<'a>>,
    #[serde(
        borrow,
        rename = "servicePrincipalName",
        alias = "ServicePrincipalName",
        alias = "serviceprincipalname"
    )]
    service_principal_name: Option<Text<'a>>,
    #[serde(
        borrow,
        rename = "ipAddress",
        alias = "IPAddress",
        alias = "IpAddress",
        alias = "ipaddress"
    )]
    ip: Option<Text<'a>>,
    #[serde(borrow, rename = "userAgent", alias = "UserAgent", alias = "useragent")]
    user_agent: Option<Text<'a>>,
    #[serde(
        borrow,
        rename = "appDisplayName",
        alias = "AppDisplayName",
        alias = "appdisplayname"
    )]
    app_name: Option<Text<'a>>,
    #[serde(borrow, rename = "appId", alias = "AppId", alias = "appid")]
    app_id: Option<Text<'a>>,
    #[serde(
        borrow,
        rename = "resourceDisplayName",
        alias = "ResourceDisplayName",
        alias = "resourcedisplayname"
    )]
    resource: Option<Text<'a>>,
    #[serde(
        borrow,
        rename = "clientAppUsed",
        alias = "ClientAppUsed",
        alias = "clientappused"
    )]
    client_app: Option<Text<'a>>,
    #[serde(
        borrow,
        rename = "authenticationProtocol",
        alias = "AuthenticationProtocol",
        alias = "authenticationprotocol"
    )]
    protocol: Option<Text<'a>>,
    #[serde(
        borrow,
        rename = "authenticationRequirement",
        alias = "AuthenticationRequirement",
        alias = "authenticationrequirement"
    )]
    requirement: Option<Text<'a>>,
    #[serde(
        borrow,
        rename = "correlationId",
        alias = "CorrelationId",
        alias = "correlationid"
    )]
    correlation_id: Option<Text<'a>>,
    #[serde(
        borrow,
        rename = "originalRequestId",
        alias = "OriginalRequestId",
        alias = "originalrequestid"
    )]
    original_request_id: Option<Text<'a>>,
    #[serde(
        rename = "isInteractive",
        alias = "IsInteractive",
        default,
        alias = "isinteractive"
    )]
    interactive: Bool,
    #[serde(borrow, rename = "status", alias = "Status", default)]
    status: Fields<'a, StatusFields, 3>,
    #[serde(rename = "ResultType", default, alias = "resulttype")]
    result_type: Int,
    #[serde(borrow, rename = "ResultDescription", alias = "resultdescription")]
    result_description: Option<Text<'a>>,
    #[serde(
        borrow,
        rename = "location",
        alias = "LocationDetails",
        alias = "locationdetails",
        default
    )]
    location: Fields<'a, LocationFields, 1>,
    #[serde(borrow, rename = "Location")]
    location_code: Option<Text<'a>>,
    #[serde(
        borrow,
        rename = "deviceDetail",
        alias = "DeviceDetail",
        alias = "devicedetail",
        default
    )]
    device: Fields<'a, DeviceFields, 2>,
    #[serde(borrow, rename = "Category", alias = "category")]
    category: Option<Text<'a>>,
    #[serde(borrow, rename = "Type", alias = "type")]
    table: Option<Text<'a>>,
}

/// What a sign-in's `status` is read for.
struct StatusFields;

impl FieldNames<3> for StatusFields {
    const NAMES: [&'static str; 3] = ["errorCode", "failureReason", "additionalDetails"];
}

/// What a sign-in's `location` is read for.
struct LocationFields;

impl FieldNames<1> for LocationFields {
    const NAMES: [&'static str; 1] = ["countryOrRegion"];
}

/// What a sign-in's `deviceDetail` is read for.
struct DeviceFields;

impl FieldNames<2> for DeviceFields {
    const NAMES: [&'static str; 2] = ["operatingSystem", "browser"];
}

/// The Azure Monitor diagnostic-settings envelope; `properties` holds the Graph-shaped record.
#[derive(Deserialize)]
struct AzureMonitorRecord<'a> {
    #[serde(borrow, rename = "time", alias = "Time")]
    time: Option<Text<'a>>,
    #[serde(borrow, rename = "category", alias = "Category")]
    category: Option<Text<'a>>,
    #[serde(
        rename = "resultType",
        alias = "resulttype",
        alias = "ResultType",
        default
    )]
    result_type: Int,
    #[serde(
        borrow,
        rename = "callerIpAddress",
        alias = "calleripaddress",
        alias = "CallerIpAddress"
    )]
    caller_ip: Option<Text<'a>>,
    #[serde(
        borrow,
        rename = "correlationId",
        alias = "correlationid",
        alias = "CorrelationId"
    )]
    correlation_id: Option<Text<'a>>,
    #[serde(borrow, rename = "properties", alias = "Properties")]
    properties: Option<&'a RawValue>,
}

fn text<'s>(t: &'s Option<Text>) -> Option<&'s str> {
    t.as_ref()
        .map(Text::as_str)
        .map(vigil_event::text::trim)
        .filter(|s| !s.is_empty())
}

fn boxed(t: &Option<Text>) -> Option<Box<str>> {
    text(t).map(Into::into)
}

/// Whether an Azure Monitor / Log Analytics category names a sign-in log, and which kind.
fn sign_in_category(category: &str) -> Option<(PrincipalKind, Option<bool>)> {
    let c = category.to_ascii_lowercase();
    let c = c.trim_start_matches("aad");
    match c {
        "signinlogs" => Some((PrincipalKind::User, None)),
        "noninteractiveusersigninlogs" => Some((PrincipalKind::User, Some(false))),
        "serviceprincipalsigninlogs" => Some((PrincipalKind::ServicePrincipal, Some(false))),
        "managedidentitysigninlogs" => Some((PrincipalKind::ManagedIdentity, Some(false))),
        _ => None,
    }
}

/// Deserialises a sign-in into its typed form and nothing more (benchmark baseline).
pub fn deserialize_sign_in_only(raw: &str) -> Result<(), serde_json::Error> {
    serde_json::from_str::<SignInRecord>(raw).map(drop)
}

/// Deserialises a directory audit into its typed form and nothing more (benchmark baseline).
pub fn deserialize_directory_audit_only(raw: &str) -> Result<(), serde_json::Error> {
    serde_json::from_str::<DirectoryAuditRecord>(raw).map(drop)
}

/// Deserialises an Azure Monitor record and its properties and nothing more (benchmark baseline).
pub fn deserialize_azure_monitor_only(raw: &str) -> Result<(), serde_json::Error> {
    let env: AzureMonitorRecord = serde_json::from_str(raw)?;
    let props = env.properties.map(RawValue::get).unwrap_or("{}");
    match env.category.as_ref().map(Text::as_str) {
        Some(c) if sign_in_category(c).is_some() => deserialize_sign_in_only(props),
        _ => deserialize_directory_audit_only(props),
    }
}

/// Parses a Graph sign-in or a Log Analytics SigninLogs row.
pub fn parse_sign_in(raw: &str, format: Format) -> Result<Event, FieldError> {
    sign_in_from(raw, raw, None, format, &Envelope::default())
}

#[derive(Default)]
struct Envelope<'a> {
    time: Option<&'a str>,
    category: Option<&'a str>,
    result_type: Option<i64>,
    caller_ip: Option<&'a str>,
    correlation_id: Option<&'a str>,
}

fn sign_in_from(
    body: &str,
    raw: &str,
    shared: Option<&Arc<str>>,
    format: Format,
    env: &Envelope,
) -> Result<Event, FieldError> {
    let rec: SignInRecord = serde_json::from_str(body).map_err(FieldError::json)?;
    sign_in_from_record(rec, raw, shared, format, env)
}

/// The second step of a Graph sign-in or a Log Analytics SigninLogs row: the typed record
/// (deserialised from `raw`) as an event.
pub(crate) fn from_sign_in_record(
    rec: SignInRecord<'_>,
    raw: &str,
    format: Format,
) -> Result<Event, FieldError> {
    sign_in_from_record(rec, raw, None, format, &Envelope::default())
}

fn sign_in_from_record(
    rec: SignInRecord<'_>,
    raw: &str,
    shared: Option<&Arc<str>>,
    format: Format,
    env: &Envelope,
) -> Result<Event, FieldError> {
    // Entra always writes an id; hand-made and re-exported records sometimes drop it. The hash of
    // the record still deduplicates exact repeats.
    let id: Box<str> = text(&rec.id)
        .map(Into::into)
        .unwrap_or_else(|| content_id(raw));
    let (time_field, time_text) = match (text(&rec.created), text(&rec.time_generated), env.time) {
        (Some(t), _, _) => ("createdDateTime", t),
        (None, Some(t), _) => ("TimeGenerated", t),
        (None, None, Some(t)) => ("time", t),
        _ => return Err(FieldError::missing("createdDateTime")),
    };
    let time = vigil_event::time::parse_timestamp(time_text)
        .map_err(|reason| FieldError::new(time_field, reason))?;
    let [status_error_code, status_failure_reason, status_additional_details] = &rec.status.values;
    let error_code = status_error_code
        .as_ref()
        .and_then(|t| t.as_str().trim().parse().ok())
        .or(rec.result_type.0)
        .or(env.result_type);
    let category = text(&rec.category).or(text(&rec.table)).or(env.category);
    let (principal, category_interactive) = category
        .and_then(sign_in_category)
        .unwrap_or((PrincipalKind::User, None));
    let succeeded = error_code == Some(0);
    let [location_country] = &rec.location.values;
    let reported_country = boxed(location_country).or_else(|| boxed(&rec.location_code));
    let [device_os, device_browser] = &rec.device.values;
    let user = match principal {
        PrincipalKind::User => text(&rec.upn).and_then(normalise_user),
        _ => text(&rec.service_principal_name)
            .or(text(&rec.app_name))
            .and_then(normalise_user),
    };
    let ip = text(&rec.ip)
        .and_then(parse_client_ip)
        .or_else(|| env.caller_ip.and_then(parse_client_ip));
    let sign_in = SignIn {
        succeeded,
        principal,
        interactive: rec.interactive.0.or(category_interactive),
        error_code,
        failure_reason: boxed(status_failure_reason)
            .filter(|s| &**s != "Other.")
            .or_else(|| boxed(&rec.result_description).filter(|_| !succeeded)),
        additional_details: boxed(status_additional_details),
        app_name: boxed(&rec.app_name),
        app_id: boxed(&rec.app_id),
        resource_name: boxed(&rec.resource),
        client_app: boxed(&rec.client_app),
        auth_protocol: boxed(&rec.protocol),
        auth_requirement: boxed(&rec.requirement),
        reported_country,
        device_os: boxed(device_os),
        browser: boxed(device_browser),
        request_type: None,
    };
    Ok(Event {
        request_id: Some(id.clone()),
        id,
        alias_ids: Vec::new(),
        linked_to: None,
        time,
        source: Source::SignIn,
        format,
        operation: "Sign-in activity".into(),
        workload: Some("AzureActiveDirectory".into()),
        outcome: if succeeded {
            Outcome::Success
        } else {
            Outcome::Failure
        },
        user,
        ip,
        user_agent: boxed(&rec.user_agent),
        correlation_id: boxed(&rec.correlation_id)
            .or_else(|| env.correlation_id.map(Into::into))
            .or_else(|| boxed(&rec.original_request_id)),
        kind: EventKind::SignIn(sign_in),
        enrichment: Default::default(),
        late: false,
        raw: crate::share(raw, shared),
    })
}

/// Parses one Azure Monitor / Event Hub record, whatever its category.
pub fn parse_azure_monitor(raw: &str) -> Result<Event, FieldError> {
    parse_azure_monitor_shared(raw, None)
}

/// [`parse_azure_monitor`], keeping `shared` as the event's raw text when it holds exactly `raw`.
pub fn parse_azure_monitor_shared(
    raw: &str,
    shared: Option<&Arc<str>>,
) -> Result<Event, FieldError> {
    let env: AzureMonitorRecord = serde_json::from_str(raw).map_err(FieldError::json)?;
    let properties = env
        .properties
        .ok_or_else(|| FieldError::missing("properties"))?
        .get();
    let envelope = Envelope {
        time: text(&env.time),
        category: text(&env.category),
        result_type: env.result_type.0,
        caller_ip: text(&env.caller_ip),
        correlation_id: text(&env.correlation_id),
    };
    let category = envelope.category.unwrap_or("");
    if sign_in_category(category).is_some() {
        return sign_in_from(
            properties,
            raw,
            shared,
            Format::AzureMonitorSignIn,
            &envelope,
        );
    }
    if category.eq_ignore_ascii_case("AuditLogs") {
        return directory_audit_from(
            properties,
            raw,
            shared,
            Format::AzureMonitorDirectoryAudit,
            envelope.time,
        );
    }
    // Another category (RiskyUsers, ProvisioningLogs, ...): keep every field as a generic event.
    let time_text = envelope.time.ok_or_else(|| FieldError::missing("time"))?;
    let time = vigil_event::time::parse_timestamp(time_text)
        .map_err(|reason| FieldError::new("time", reason))?;
    let props: Value = serde_json::from_str(properties).map_err(FieldError::json)?;
    let id = props
        .as_object()
        .and_then(|o| get_ci(o, "id"))
        .map(value_text)
        .filter(|s| !s.is_empty())
        .map(Into::into)
        .unwrap_or_else(|| content_id(raw));
    Ok(Event {
        id,
        alias_ids: Vec::new(),
        linked_to: None,
        time,
        source: Source::DirectoryAudit,
        format: Format::AzureMonitorDirectoryAudit,
        operation: if category.is_empty() {
            "unknown".into()
        } else {
            vigil_event::known_name(category)
        },
        workload: Some("AzureActiveDirectory".into()),
        outcome: Outcome::Unknown,
        user: None,
        ip: envelope.caller_ip.and_then(parse_client_ip),
        user_agent: None,
        request_id: None,
        correlation_id: envelope.correlation_id.map(Into::into),
        kind: EventKind::Generic,
        enrichment: Default::default(),
        late: false,
        raw: crate::share(raw, shared),
    })
}

#[derive(Deserialize)]
struct DirectoryAuditRecord<'a> {
    #[serde(borrow, rename = "id", alias = "Id")]
    id: Option<Text<'a>>,
    #[serde(borrow, rename = "activityDateTime", alias = "ActivityDateTime")]
    activity_time: Option<Text<'a>>,
    #[serde(borrow, rename = "TimeGenerated")]
    time_generated: Option<Text<'a>>,
    #[serde(borrow, rename = "activityDisplayName", alias = "ActivityDisplayName")]
    activity: Option<Text<'a>>,
    #[serde(borrow, rename = "OperationName", alias = "operationName")]
    operation_name: Option<Text<'a>>,
    #[serde(borrow, rename = "correlationId", alias = "CorrelationId")]
    correlation_id: Option<Text<'a>>,
    #[serde(borrow, rename = "result", alias = "Result")]
    result: Option<Text<'a>>,
    #[serde(borrow, rename = "initiatedBy", alias = "InitiatedBy")]
    initiated_by: Option<&'a RawValue>,
    #[serde(borrow, rename = "targetResources", alias = "TargetResources")]
    target_resources: Option<&'a RawValue>,
    #[serde(borrow, rename = "additionalDetails", alias = "AdditionalDetails")]
    additional_details: Option<&'a RawValue>,
    #[serde(borrow, rename = "UserAgent", alias = "userAgent")]
    user_agent: Option<Text<'a>>,
}

/// Parses a Graph directoryAudit or a Log Analytics AuditLogs row.
pub fn parse_directory_audit(raw: &str, format: Format) -> Result<Event, FieldError> {
    directory_audit_from(raw, raw, None, format, None)
}

fn directory_audit_from(
    body: &str,
    raw: &str,
    shared: Option<&Arc<str>>,
    format: Format,
    envelope_time: Option<&str>,
) -> Result<Event, FieldError> {
    let rec: DirectoryAuditRecord = serde_json::from_str(body).map_err(FieldError::json)?;
    let id: Box<str> = text(&rec.id)
        .map(Into::into)
        .unwrap_or_else(|| content_id(raw));
    let activity = text(&rec.activity)
        .or(text(&rec.operation_name))
        .ok_or_else(|| FieldError::missing("activityDisplayName"))?;
    let (time_field, time_text) = match (
        text(&rec.activity_time),
        text(&rec.time_generated),
        envelope_time,
    ) {
        (Some(t), _, _) => ("activityDateTime", t),
        (None, Some(t), _) => ("TimeGenerated", t),
        (None, None, Some(t)) => ("time", t),
        _ => return Err(FieldError::missing("activityDateTime")),
    };
    let time = vigil_event::time::parse_timestamp(time_text)
        .map_err(|reason| FieldError::new(time_field, reason))?;
    let initiated = json_or_string(rec.initiated_by);
    let actor = initiated.as_ref().and_then(Value::as_object);
    let actor_user = actor
        .and_then(|o| get_ci(o, "user"))
        .and_then(Value::as_object);
    let actor_app = actor
        .and_then(|o| get_ci(o, "app"))
        .and_then(Value::as_object);
    let user = actor_user
        .and_then(|u| get_ci(u, "userPrincipalName"))
        .map(value_text)
        .and_then(|s| normalise_user(&s))
        .or_else(|| {
            // Graph writes `"servicePrincipalName": null` for most apps: fall through to the name.
            let app = actor_app?;
            ["servicePrincipalName", "displayName"]
                .iter()
                .filter_map(|k| get_ci(app, k))
                .find_map(|v| normalise_user(&value_text(v)))
        });
    let ip = actor_user
        .and_then(|u| get_ci(u, "ipAddress"))
        .map(value_text)
        .and_then(|s| parse_client_ip(&s));
    let details = json_or_string(rec.additional_details)
        .map(|v| name_values_of(&v))
        .unwrap_or_default();
    let user_agent = boxed(&rec.user_agent).or_else(|| {
        vigil_event::find_value(&details, "User-Agent")
            .filter(|s| !s.is_empty())
            .map(Into::into)
    });
    let mut targets = Vec::new();
    let mut modified = Vec::new();
    let mut previous = Vec::new();
    if let Some(Value::Array(items)) = json_or_string(rec.target_resources) {
        for t in items.iter().filter_map(Value::as_object) {
            let field = |name: &str| get_ci(t, name).map(value_text).filter(|s| !s.is_empty());
            targets.push(Target {
                id: field("id"),
                name: field("displayName"),
                upn: field("userPrincipalName"),
                kind: field("type"),
            });
            if let Some(m) = get_ci(t, "modifiedProperties") {
                modified.extend(name_values_of(m));
                previous.extend(old_values_of(m));
            }
        }
    }
    let operation = normalise_operation(activity);
    let view = DirectoryView {
        operation,
        modified,
        previous,
        targets,
        object_id: None,
    };
    let kind = directory::classify(&view).unwrap_or(EventKind::Generic);
    let outcome = match text(&rec.result).map(str::to_ascii_lowercase).as_deref() {
        Some("success") => Outcome::Success,
        Some("failure") | Some("timeout") => Outcome::Failure,
        _ => Outcome::Unknown,
    };
    Ok(Event {
        id,
        alias_ids: Vec::new(),
        linked_to: None,
        time,
        source: Source::DirectoryAudit,
        format,
        operation: vigil_event::known_name(operation),
        workload: Some("AzureActiveDirectory".into()),
        outcome,
        user,
        ip,
        user_agent,
        request_id: None,
        correlation_id: boxed(&rec.correlation_id),
        kind,
        enrichment: Default::default(),
        late: false,
        raw: crate::share(raw, shared),
    })
}
