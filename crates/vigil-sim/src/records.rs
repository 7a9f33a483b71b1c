//! Builders for every record type, in the field names, order and value forms of the real APIs.
//!
//! Each builder writes the record into the sink and returns the record's id (what the ground
//! truth lists). API habits that live inside a record (numbers as strings, lower-case Name/Value
//! keys, Parameters as a JSON string, operation names without their full stop) are decided here
//! through [`Sink::quirk`]; delivery habits (late, duplicated, shuffled) are the sink's.

use std::fmt::Write as _;
use std::net::IpAddr;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::catalog::App;
use crate::geo::City;
use crate::json::{self, quoted, Arr, Obj};
use crate::rng::{guid, hex_upper, stable_guid};
use crate::sink::{HubFields, Sink, Stream};
use crate::time;
use crate::world::{Account, World};

/// `1.2.3.4:51234` or `[2001:db8::1]:51234`, as Exchange writes client addresses.
pub(crate) fn ip_port(ip: IpAddr, rng: &mut ChaCha8Rng) -> String {
    let port = rng.random_range(1024..65535u32);
    match ip {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

/// Common-schema head of an audit record.
struct Head<'a> {
    ms: i64,
    id: &'a str,
    op: &'a str,
    record_type: i64,
    workload: &'a str,
    result_status: Option<&'a str>,
    user_key: &'a str,
    user_type: i64,
    user_id: &'a str,
    client_ip: Option<&'a str>,
    object_id: Option<&'a str>,
}

fn head(o: &mut Obj<'_>, s: &mut Sink<'_>, w: &World, h: &Head<'_>) {
    let mut when = String::with_capacity(20);
    time::push_audit(&mut when, h.ms);
    let op = if h.op.ends_with('.') && s.quirk(0.10) {
        &h.op[..h.op.len() - 1]
    } else {
        h.op
    };
    let rt_str = s.quirk(0.03);
    let ut_str = s.quirk(0.01);
    o.str("CreationTime", &when)
        .str("Id", h.id)
        .str("Operation", op)
        .str("OrganizationId", &w.tenant_id)
        .int_maybe_str("RecordType", h.record_type, rt_str);
    if let Some(r) = h.result_status {
        o.str("ResultStatus", r);
    }
    o.str("UserKey", h.user_key)
        .int_maybe_str("UserType", h.user_type, ut_str)
        .int("Version", 1)
        .str("Workload", h.workload);
    if let Some(ip) = h.client_ip {
        o.str("ClientIP", ip);
    }
    if let Some(obj) = h.object_id {
        o.str("ObjectId", obj);
    }
    o.str("UserId", h.user_id);
}

/// Name/Value list, sometimes with lower-case keys.
fn nv(s: &mut Sink<'_>, pairs: &[(&str, String)]) -> String {
    let lower = s.quirk(0.04);
    json::name_values(pairs, lower)
}

// ---------------------------------------------------------------------------------------------
// Sign-ins
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LoginResult {
    Success,
    BadPassword,
    MfaDenied,
    UnknownUser,
}

impl LoginResult {
    fn code(self) -> i64 {
        match self {
            LoginResult::Success => 0,
            LoginResult::BadPassword => 50126,
            LoginResult::MfaDenied => 500121,
            LoginResult::UnknownUser => 50034,
        }
    }

    fn reason(self) -> &'static str {
        match self {
            LoginResult::Success => "Other.",
            LoginResult::BadPassword => {
                "Error validating credentials due to invalid username or password."
            }
            LoginResult::MfaDenied => "Authentication failed during strong authentication request.",
            LoginResult::UnknownUser => "The user account does not exist in the directory. To sign into this application, the account must be added to the directory.",
        }
    }

    fn details(self, mfa: bool) -> Option<&'static str> {
        match self {
            LoginResult::Success if mfa => Some("MFA requirement satisfied by claim in the token"),
            LoginResult::Success => None,
            LoginResult::BadPassword => Some("The user didn't enter the right credentials. It's expected to see some number of these errors in your logs due to users making mistakes."),
            LoginResult::MfaDenied => Some("MFA denied; user declined the authentication"),
            LoginResult::UnknownUser => None,
        }
    }

    fn logon_error(self) -> &'static str {
        match self {
            LoginResult::Success => "",
            LoginResult::BadPassword => "InvalidUserNameOrPassword",
            LoginResult::MfaDenied => "UserDeclinedAuthentication",
            LoginResult::UnknownUser => "UserAccountNotFound",
        }
    }
}

/// One sign-in, written to Entra's log and (when `audit`) to the audit log as
/// UserLoggedIn/UserLoginFailed with IntraSystemId = the sign-in id.
pub(crate) struct Login<'a> {
    pub ms: i64,
    pub upn: &'a str,
    /// Object id; empty for accounts that do not exist.
    pub user_id: &'a str,
    pub display: &'a str,
    pub user_key: &'a str,
    pub ip: IpAddr,
    pub country: &'a str,
    pub city: &'a City,
    pub app_name: &'a str,
    pub app_id: &'a str,
    pub resource: App,
    pub client_app: &'a str,
    pub ua: &'a str,
    pub os: &'a str,
    pub browser: &'a str,
    pub interactive: bool,
    pub result: LoginResult,
    pub mfa: bool,
    pub protocol: &'a str,
    pub request_type: &'a str,
    pub correlation: Option<&'a str>,
    pub audit: bool,
}

pub(crate) struct LoginIds {
    pub signin_id: String,
    pub audit_id: Option<String>,
    /// Whether the records fell inside the simulated period and were written.
    pub written: bool,
}

pub(crate) fn login(w: &World, s: &mut Sink<'_>, rng: &mut ChaCha8Rng, l: &Login<'_>) -> LoginIds {
    let id = guid(rng);
    let correlation = l
        .correlation
        .map(str::to_string)
        .unwrap_or_else(|| guid(rng));
    let ip = l.ip.to_string();
    let code = l.result.code();
    let mut props = String::with_capacity(1500);
    {
        let mut o = Obj::new(&mut props);
        o.str("id", &id)
            .str("createdDateTime", &time::graph_string(l.ms))
            .str("userDisplayName", l.display)
            .str("userPrincipalName", l.upn)
            .str("userId", l.user_id)
            .str("appId", l.app_id)
            .str("appDisplayName", l.app_name)
            .str("ipAddress", &ip)
            .str("clientAppUsed", l.client_app)
            .str("userAgent", l.ua)
            .str("correlationId", &correlation)
            .str(
                "conditionalAccessStatus",
                if l.result == LoginResult::Success {
                    "success"
                } else {
                    "notApplied"
                },
            )
            .str("originalRequestId", &id)
            .bool("isInteractive", l.interactive)
            .str("tokenIssuerName", "")
            .str("tokenIssuerType", "AzureAD")
            .int("processingTimeInMilliseconds", rng.random_range(40..400))
            .str("riskDetail", "none")
            .str("riskLevelAggregated", "none")
            .str("riskLevelDuringSignIn", "none")
            .str("riskState", "none")
            .raw("riskEventTypes", "[]")
            .raw("riskEventTypes_v2", "[]")
            .str("resourceDisplayName", l.resource.name)
            .str("resourceId", l.resource.id)
            .str(
                "authenticationRequirement",
                if l.mfa {
                    "multiFactorAuthentication"
                } else {
                    "singleFactorAuthentication"
                },
            )
            .str("authenticationProtocol", l.protocol)
            .arr("signInEventTypes", |a| {
                a.str(if l.interactive {
                    "interactiveUser"
                } else {
                    "nonInteractiveUser"
                });
            })
            .obj("status", |o| {
                o.int("errorCode", code)
                    .str("failureReason", l.result.reason())
                    .opt_str("additionalDetails", l.result.details(l.mfa));
            })
            .obj("deviceDetail", |o| {
                o.str("deviceId", "")
                    .str("displayName", "")
                    .str("operatingSystem", l.os)
                    .str("browser", l.browser)
                    .bool("isCompliant", false)
                    .bool("isManaged", false)
                    .str("trustType", "");
            })
            .obj("location", |o| {
                o.str("city", l.city.name)
                    .str("state", l.city.state)
                    .str("countryOrRegion", l.country)
                    .obj("geoCoordinates", |o| {
                        o.null("altitude")
                            .float("latitude", l.city.lat)
                            .float("longitude", l.city.lon);
                    });
            })
            .raw("appliedConditionalAccessPolicies", "[]");
        o.end();
    }
    let sub = rng.random_range(0..10_000u32);
    let written = s.signin(
        l.ms,
        sub,
        &props,
        &HubFields {
            category: if l.interactive {
                "SignInLogs"
            } else {
                "NonInteractiveUserSignInLogs"
            },
            result_type: code,
            result_description: (code != 0).then(|| l.result.reason()),
            caller_ip: &ip,
            correlation_id: &correlation,
            identity: l.display,
            country: l.country,
        },
    );

    let mut audit_id = None;
    if l.audit {
        let aid = guid(rng);
        let mut t = String::with_capacity(1500);
        {
            let mut o = Obj::new(&mut t);
            let op = if l.result == LoginResult::Success {
                "UserLoggedIn"
            } else {
                "UserLoginFailed"
            };
            head(
                &mut o,
                s,
                w,
                &Head {
                    ms: l.ms,
                    id: &aid,
                    op,
                    record_type: 15,
                    workload: "AzureActiveDirectory",
                    // The API writes "Success" on failed logins too.
                    result_status: Some("Success"),
                    user_key: if l.user_id.is_empty() {
                        l.upn
                    } else {
                        l.user_id
                    },
                    user_type: 0,
                    user_id: l.upn,
                    client_ip: Some(&ip),
                    object_id: Some(l.resource.id),
                },
            );
            let status_detail = match l.result {
                LoginResult::Success => "Redirect",
                _ => "UserError",
            };
            let ext = nv(
                s,
                &[
                    ("ResultStatusDetail", status_detail.to_string()),
                    ("UserAgent", l.ua.to_string()),
                    ("RequestType", l.request_type.to_string()),
                ],
            );
            o.int("AzureActiveDirectoryEventType", 1)
                .raw("ExtendedProperties", &ext)
                .raw("ModifiedProperties", "[]")
                .arr("Actor", |a| {
                    if !l.user_id.is_empty() {
                        a.obj(|o| {
                            o.str("ID", l.user_id).int("Type", 0);
                        });
                    }
                    a.obj(|o| {
                        o.str("ID", l.upn).int("Type", 5);
                    });
                })
                .str("ActorContextId", &w.tenant_id)
                .str("ActorIpAddress", &ip)
                .str("InterSystemsId", &correlation)
                .str("IntraSystemId", &id)
                .str("SupportTicketId", "")
                .arr("Target", |a| {
                    a.obj(|o| {
                        o.str("ID", l.resource.id).int("Type", 0);
                    });
                })
                .str("TargetContextId", &w.tenant_id)
                .str("ApplicationId", l.app_id)
                .arr("DeviceProperties", |a| {
                    a.obj(|o| {
                        o.str("Name", "OS").str("Value", l.os);
                    })
                    .obj(|o| {
                        o.str("Name", "BrowserType").str("Value", l.browser);
                    })
                    .obj(|o| {
                        o.str("Name", "SessionId").str("Value", &correlation);
                    });
                })
                .str("ErrorNumber", &code.to_string());
            if l.result != LoginResult::Success {
                o.str("LogonError", l.result.logon_error());
            }
            o.end();
        }
        s.audit(Stream::AuditAad, l.ms, &t);
        audit_id = Some(aid);
    }
    LoginIds {
        signin_id: id,
        audit_id,
        written,
    }
}

// ---------------------------------------------------------------------------------------------
// Exchange
// ---------------------------------------------------------------------------------------------

fn originating_server(w: &World, a: &Account) -> String {
    let n = (a.idx as u64).wrapping_mul(2654435761) % 9000 + 1000;
    format!("{}MB{n} (15.20.4930.019)", w.server_prefix)
}

/// Mailbox identity as Exchange admin records write it.
pub(crate) fn mailbox_identity(w: &World, a: &Account) -> String {
    format!(
        "{}.prod.outlook.com/Microsoft Exchange Hosted Organizations/{}/{}",
        w.exo_forest, w.tenant_domain, a.display
    )
}

/// An Exchange admin cmdlet (New-InboxRule, Set-InboxRule, Set-Mailbox, ...): RecordType 1.
#[allow(clippy::too_many_arguments)]
pub(crate) fn exo_cmdlet(
    w: &World,
    s: &mut Sink<'_>,
    rng: &mut ChaCha8Rng,
    ms: i64,
    actor: &Account,
    op: &str,
    object_id: &str,
    params: &[(&str, String)],
    client_ip: Option<IpAddr>,
    admin: bool,
) -> String {
    let id = guid(rng);
    let ip = client_ip.map(|ip| ip_port(ip, rng));
    let mut t = String::with_capacity(1200);
    let mut o = Obj::new(&mut t);
    head(
        &mut o,
        s,
        w,
        &Head {
            ms,
            id: &id,
            op,
            record_type: 1,
            workload: "Exchange",
            result_status: Some("True"),
            user_key: &actor.puid,
            user_type: if admin { 2 } else { 0 },
            user_id: &actor.upn,
            client_ip: ip.as_deref(),
            object_id: Some(object_id),
        },
    );
    let p = nv(s, params);
    let as_string = s.quirk(0.15);
    o.str("AppId", "")
        .str("ClientAppId", "")
        .bool("ExternalAccess", false)
        .str("OrganizationName", &w.tenant_domain)
        .str("OriginatingServer", &originating_server(w, actor));
    if as_string {
        o.str("Parameters", &p);
    } else {
        o.raw("Parameters", &p);
    }
    o.str("SessionId", &guid(rng));
    o.end();
    s.audit(Stream::AuditExchange, ms, &t);
    id
}

/// How a mailbox was reached.
pub(crate) struct MailClient<'a> {
    pub ip: IpAddr,
    pub info: &'a str,
    pub app_id: &'a str,
    pub client_app_id: &'a str,
}

fn mailbox_fields(
    o: &mut Obj<'_>,
    w: &World,
    a: &Account,
    c: &MailClient<'_>,
    rng: &mut ChaCha8Rng,
) {
    let ip = c.ip.to_string();
    o.str("AppId", c.app_id)
        .str("ClientAppId", c.client_app_id)
        .str("ClientIPAddress", &ip)
        .str("ClientInfoString", c.info)
        .bool("ExternalAccess", false)
        .int("InternalLogonType", 0)
        .int("LogonType", 0)
        .str("LogonUserSid", &a.sid)
        .str("MailboxGuid", &a.mailbox_guid)
        .str("MailboxOwnerSid", &a.sid)
        .str("MailboxOwnerUPN", &a.upn)
        .str("OrganizationName", &w.tenant_domain)
        .str("OriginatingServer", &originating_server(w, a))
        .str("SessionId", &guid(rng));
}

fn client_ip_text(ip: IpAddr, rng: &mut ChaCha8Rng) -> String {
    // Mailbox audit records mostly carry the bare address, sometimes with the port.
    if rng.random_bool(0.1) {
        ip_port(ip, rng)
    } else {
        ip.to_string()
    }
}

/// A new Internet message id in Exchange Online's form.
pub(crate) fn internet_message_id(w: &World, rng: &mut ChaCha8Rng) -> String {
    let server = format!("{}MB{}", w.server_prefix, rng.random_range(1000..9999));
    format!(
        "<{server}{}@{server}.{}.prod.outlook.com>",
        hex_upper(rng, 12),
        w.prod_region
    )
}

/// Mailbox audit `Send` (RecordType 2).
#[allow(clippy::too_many_arguments)]
pub(crate) fn mail_send(
    w: &World,
    s: &mut Sink<'_>,
    rng: &mut ChaCha8Rng,
    ms: i64,
    a: &Account,
    c: &MailClient<'_>,
    subject: &str,
    imid: &str,
    size: u64,
) -> String {
    let id = guid(rng);
    let ip = client_ip_text(c.ip, rng);
    let mut t = String::with_capacity(1400);
    let mut o = Obj::new(&mut t);
    head(
        &mut o,
        s,
        w,
        &Head {
            ms,
            id: &id,
            op: "Send",
            record_type: 2,
            workload: "Exchange",
            result_status: Some("Succeeded"),
            user_key: &a.puid,
            user_type: 0,
            user_id: &a.upn,
            client_ip: Some(&ip),
            object_id: None,
        },
    );
    mailbox_fields(&mut o, w, a, c, rng);
    let item_id = format!("RgAAAA{}AAAJ", hex_upper(rng, 40));
    let folder_id = format!("LgAAAA{}AQ", hex_upper(rng, 30));
    o.obj("Item", |o| {
        o.str("Id", &item_id)
            .str("InternetMessageId", imid)
            .obj("ParentFolder", |o| {
                o.str("Id", &folder_id).str("Path", "\\Sent Items");
            })
            .int("SizeInBytes", size as i64)
            .str("Subject", subject);
    });
    o.end();
    s.audit(Stream::AuditExchange, ms, &t);
    id
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    Bind,
    Sync,
}

/// MailItemsAccessed (RecordType 50), aggregated by OperationCount.
#[allow(clippy::too_many_arguments)]
pub(crate) fn mail_access(
    w: &World,
    s: &mut Sink<'_>,
    rng: &mut ChaCha8Rng,
    ms: i64,
    a: &Account,
    c: &MailClient<'_>,
    access: Access,
    count: u32,
    folder: &str,
) -> String {
    let id = guid(rng);
    let ip = client_ip_text(c.ip, rng);
    let mut t = String::with_capacity(1400);
    let mut o = Obj::new(&mut t);
    head(
        &mut o,
        s,
        w,
        &Head {
            ms,
            id: &id,
            op: "MailItemsAccessed",
            record_type: 50,
            workload: "Exchange",
            result_status: Some("Succeeded"),
            user_key: &a.puid,
            user_type: 0,
            user_id: &a.upn,
            client_ip: Some(&ip),
            object_id: None,
        },
    );
    mailbox_fields(&mut o, w, a, c, rng);
    let props = nv(
        s,
        &[
            (
                "MailAccessType",
                match access {
                    Access::Bind => "Bind",
                    Access::Sync => "Sync",
                }
                .to_string(),
            ),
            ("IsThrottled", "False".to_string()),
        ],
    );
    o.raw("OperationProperties", &props);
    let folder_id = format!("LgAAAA{}AQ", hex_upper(rng, 30));
    let mut folders = String::new();
    {
        let mut a = Arr::new(&mut folders);
        a.obj(|o| {
            if access == Access::Bind {
                let items = count.clamp(1, 3);
                o.arr("FolderItems", |a| {
                    for _ in 0..items {
                        let imid = internet_message_id(w, rng);
                        a.obj(|o| {
                            o.str("InternetMessageId", &imid);
                        });
                    }
                });
            }
            o.str("Id", &folder_id).str("Path", folder);
        });
        a.end();
    }
    o.raw("Folders", &folders);
    let as_str = s.quirk(0.3);
    o.int_maybe_str("OperationCount", count as i64, as_str);
    o.end();
    s.audit(Stream::AuditExchange, ms, &t);
    id
}

// ---------------------------------------------------------------------------------------------
// SharePoint / OneDrive
// ---------------------------------------------------------------------------------------------

pub(crate) struct FileOp<'a> {
    pub ms: i64,
    pub op: &'a str,
    pub onedrive: bool,
    pub site_url: &'a str,
    pub rel_url: &'a str,
    pub file_name: &'a str,
    pub ip: IpAddr,
    pub ua: &'a str,
    /// Application behind the request (an OAuth app reading on the user's behalf).
    pub app: Option<(&'a str, &'a str)>,
}

/// SharePointFileOperation (RecordType 6).
pub(crate) fn file_op(
    w: &World,
    s: &mut Sink<'_>,
    rng: &mut ChaCha8Rng,
    a: &Account,
    f: &FileOp<'_>,
) -> String {
    let id = guid(rng);
    let ip = f.ip.to_string();
    let object = format!("{}{}/{}", f.site_url, f.rel_url, f.file_name);
    let user_key = format!("i:0h.f|membership|{}@live.com", a.puid.to_ascii_lowercase());
    let mut t = String::with_capacity(1200);
    let mut o = Obj::new(&mut t);
    head(
        &mut o,
        s,
        w,
        &Head {
            ms: f.ms,
            id: &id,
            op: f.op,
            record_type: 6,
            workload: if f.onedrive { "OneDrive" } else { "SharePoint" },
            result_status: None,
            user_key: &user_key,
            user_type: 0,
            user_id: &a.upn,
            client_ip: Some(&ip),
            object_id: Some(&object),
        },
    );
    let ext = f.file_name.rsplit('.').next().unwrap_or("");
    o.str("CorrelationId", &guid(rng))
        .str("EventSource", "SharePoint")
        .str("ItemType", "File")
        .str("ListId", &guid(rng))
        .str("ListItemUniqueId", &guid(rng))
        .str("Site", &stable_guid(f.site_url))
        .str("UserAgent", f.ua)
        .str("WebId", &stable_guid(&format!("{}web", f.site_url)));
    if let Some((app_id, app_name)) = f.app {
        o.str("ApplicationId", app_id)
            .str("ApplicationDisplayName", app_name);
    }
    o.str("SourceFileExtension", ext)
        .str("SiteUrl", f.site_url)
        .str("SourceFileName", f.file_name)
        .str("SourceRelativeUrl", f.rel_url);
    o.end();
    s.audit(Stream::AuditSharePoint, f.ms, &t);
    id
}

// ---------------------------------------------------------------------------------------------
// Entra directory (RecordType 8)
// ---------------------------------------------------------------------------------------------

pub(crate) struct DirOp<'a> {
    pub ms: i64,
    pub op: &'a str,
    pub actor: &'a Account,
    pub object_id: &'a str,
    pub targets: Vec<(String, i64)>,
    /// (Name, NewValue, OldValue)
    pub modified: Vec<(&'a str, String, String)>,
    pub extended: Vec<(&'a str, String)>,
    pub client_ip: Option<IpAddr>,
}

pub(crate) fn dir_op(w: &World, s: &mut Sink<'_>, rng: &mut ChaCha8Rng, d: &DirOp<'_>) -> String {
    let id = guid(rng);
    let ip = d.client_ip.map(|i| i.to_string());
    let user_key = format!("{}@{}", d.actor.puid, w.tenant_domain);
    let mut t = String::with_capacity(1600);
    let mut o = Obj::new(&mut t);
    head(
        &mut o,
        s,
        w,
        &Head {
            ms: d.ms,
            id: &id,
            op: d.op,
            record_type: 8,
            workload: "AzureActiveDirectory",
            result_status: Some("Success"),
            user_key: &user_key,
            user_type: 0,
            user_id: &d.actor.upn,
            client_ip: None,
            object_id: Some(d.object_id),
        },
    );
    let ext = nv(s, &d.extended);
    let lower = s.quirk(0.04);
    let (n, nv_, ov) = if lower {
        ("name", "newValue", "oldValue")
    } else {
        ("Name", "NewValue", "OldValue")
    };
    o.int("AzureActiveDirectoryEventType", 1)
        .raw("ExtendedProperties", &ext)
        .arr("ModifiedProperties", |a| {
            for (name, new, old) in &d.modified {
                a.obj(|o| {
                    o.str(n, name).str(nv_, new).str(ov, old);
                });
            }
        })
        .arr("Actor", |a| {
            a.obj(|o| {
                o.str("ID", &d.actor.upn).int("Type", 5);
            })
            .obj(|o| {
                o.str("ID", &d.actor.puid).int("Type", 3);
            })
            .obj(|o| {
                o.str("ID", &format!("User_{}", d.actor.object_id))
                    .int("Type", 2);
            })
            .obj(|o| {
                o.str("ID", &d.actor.object_id).int("Type", 2);
            })
            .obj(|o| {
                o.str("ID", "User").int("Type", 2);
            });
        })
        .str("ActorContextId", &w.tenant_id);
    if let Some(ip) = &ip {
        o.str("ActorIpAddress", ip);
    }
    o.str("InterSystemsId", &guid(rng))
        .str("IntraSystemId", &guid(rng))
        .str("SupportTicketId", "")
        .arr("Target", |a| {
            for (tid, ty) in &d.targets {
                a.obj(|o| {
                    o.str("ID", tid).int("Type", *ty);
                });
            }
        })
        .str("TargetContextId", &w.tenant_id);
    o.end();
    s.audit(Stream::AuditAad, d.ms, &t);
    id
}

/// Targets naming a user.
pub(crate) fn user_targets(a: &Account) -> Vec<(String, i64)> {
    vec![
        (format!("User_{}", a.object_id), 2),
        (a.object_id.clone(), 2),
        ("User".to_string(), 2),
        (a.upn.clone(), 5),
        (a.puid.clone(), 3),
    ]
}

/// Service principal object id of an application in this tenant.
pub(crate) fn sp_object_id(w: &World, app_id: &str) -> String {
    stable_guid(&format!("{}:{app_id}", w.tenant_id))
}

fn app_targets(w: &World, name: &str, app_id: &str, domain: &str) -> Vec<(String, i64)> {
    let sp = sp_object_id(w, app_id);
    vec![
        (format!("ServicePrincipal_{sp}"), 2),
        (sp, 2),
        ("ServicePrincipal".to_string(), 2),
        (name.to_string(), 1),
        (app_id.to_string(), 2),
        (app_id.to_string(), 4),
        (format!("https://{domain}"), 4),
    ]
}

/// The records a user's consent to an application produces: "Add service principal." (the
/// first time the app is seen in the tenant), "Add OAuth2PermissionGrant." and "Consent to
/// application.". Returns their ids.
#[allow(clippy::too_many_arguments)]
pub(crate) fn consent(
    w: &World,
    s: &mut Sink<'_>,
    rng: &mut ChaCha8Rng,
    ms: i64,
    a: &Account,
    app_name: &str,
    app_id: &str,
    domain: &str,
    scopes: &[&str],
    add_sp: bool,
    ip: IpAddr,
    ua: &str,
) -> Vec<String> {
    let mut ids = Vec::new();
    let sp = sp_object_id(w, app_id);
    let graph_sp = sp_object_id(w, crate::catalog::GRAPH.id);
    let scope = scopes.join(" ");
    let details = format!("{{\"User-Agent\":{}}}", quoted(ua));
    if add_sp {
        ids.push(dir_op(
            w,
            s,
            rng,
            &DirOp {
                ms,
                op: "Add service principal.",
                actor: a,
                object_id: &sp,
                targets: app_targets(w, app_name, app_id, domain),
                modified: vec![
                    ("AccountEnabled", "[true]".to_string(), "[]".to_string()),
                    (
                        "AppPrincipalId",
                        format!("[\"{app_id}\"]"),
                        "[]".to_string(),
                    ),
                    (
                        "DisplayName",
                        format!("[{}]", quoted(app_name)),
                        "[]".to_string(),
                    ),
                    (
                        "ServicePrincipalName",
                        format!("[\"{app_id}\",\"https://{domain}\"]"),
                        "[]".to_string(),
                    ),
                    (
                        "Included Updated Properties",
                        "AccountEnabled, AppPrincipalId, DisplayName, ServicePrincipalName"
                            .to_string(),
                        String::new(),
                    ),
                ],
                extended: vec![
                    ("additionalDetails", details.clone()),
                    ("extendedAuditEventCategory", "ServicePrincipal".to_string()),
                ],
                client_ip: Some(ip),
            },
        ));
    }
    let grant_id = format!("{}{}", hex_upper(rng, 22), "-AAAAAAAA");
    ids.push(dir_op(
        w,
        s,
        rng,
        &DirOp {
            ms: ms + 1000,
            op: "Add OAuth2PermissionGrant.",
            actor: a,
            object_id: &graph_sp,
            targets: vec![
                (format!("ServicePrincipal_{graph_sp}"), 2),
                (graph_sp.clone(), 2),
                ("ServicePrincipal".to_string(), 2),
                ("Microsoft Graph".to_string(), 1),
                (crate::catalog::GRAPH.id.to_string(), 2),
            ],
            modified: vec![
                (
                    "DelegatedPermissionGrant.Scope",
                    format!(" {scope}"),
                    String::new(),
                ),
                (
                    "DelegatedPermissionGrant.ClientId",
                    sp.clone(),
                    String::new(),
                ),
                (
                    "DelegatedPermissionGrant.ConsentType",
                    "Principal".to_string(),
                    String::new(),
                ),
            ],
            extended: vec![
                ("additionalDetails", details.clone()),
                ("extendedAuditEventCategory", "ServicePrincipal".to_string()),
            ],
            client_ip: Some(ip),
        },
    ));
    ids.push(dir_op(
        w,
        s,
        rng,
        &DirOp {
            ms: ms + 1000,
            op: "Consent to application.",
            actor: a,
            object_id: &sp,
            targets: app_targets(w, app_name, app_id, domain),
            modified: vec![
                ("ConsentContext.IsAdminConsent", "False".to_string(), String::new()),
                ("ConsentContext.IsAppOnly", "False".to_string(), String::new()),
                ("ConsentContext.OnBehalfOfAll", "False".to_string(), String::new()),
                (
                    "ConsentContext.Tags",
                    "WindowsAzureActiveDirectoryIntegratedApp".to_string(),
                    String::new(),
                ),
                (
                    "ConsentAction.Permissions",
                    format!(
                        "[] => [[Id: {grant_id}, ClientId: {sp}, PrincipalId: {}, ResourceId: {graph_sp}, ConsentType: Principal, Scope: {scope}, CreatedDateTime: , LastModifiedDateTime ]]; ",
                        a.object_id
                    ),
                    String::new(),
                ),
                (
                    "TargetId.ServicePrincipalNames",
                    format!("{app_id};https://{domain}"),
                    String::new(),
                ),
            ],
            extended: vec![
                ("additionalDetails", details),
                ("extendedAuditEventCategory", "ServicePrincipal".to_string()),
            ],
            client_ip: Some(ip),
        },
    ));
    ids
}

// ---------------------------------------------------------------------------------------------
// Teams (Audit.General)
// ---------------------------------------------------------------------------------------------

pub(crate) fn teams_session(
    w: &World,
    s: &mut Sink<'_>,
    rng: &mut ChaCha8Rng,
    ms: i64,
    a: &Account,
    ip: IpAddr,
    ua: &str,
) -> String {
    let id = guid(rng);
    let ipt = ip.to_string();
    let mut t = String::with_capacity(600);
    let mut o = Obj::new(&mut t);
    head(
        &mut o,
        s,
        w,
        &Head {
            ms,
            id: &id,
            op: "TeamsSessionStarted",
            record_type: 25,
            workload: "MicrosoftTeams",
            result_status: None,
            user_key: &a.object_id,
            user_type: 0,
            user_id: &a.upn,
            client_ip: Some(&ipt),
            object_id: None,
        },
    );
    o.str("UserAgent", ua)
        .str("ClientAppId", crate::catalog::TEAMS.id);
    o.end();
    s.audit(Stream::AuditGeneral, ms, &t);
    id
}

// ---------------------------------------------------------------------------------------------
// Message trace
// ---------------------------------------------------------------------------------------------

/// One recipient of a traced message.
pub(crate) struct TraceTo<'a> {
    pub address: &'a str,
    pub to_ip: Option<IpAddr>,
    pub status: &'a str,
}

/// Writes one message trace row per recipient. Returns `MessageTraceId:recipient` per row.
#[allow(clippy::too_many_arguments)]
pub(crate) fn trace(
    w: &World,
    s: &mut Sink<'_>,
    rng: &mut ChaCha8Rng,
    ms: i64,
    sender: &str,
    to: &[TraceTo<'_>],
    subject: &str,
    from_ip: Option<IpAddr>,
    size: u64,
    message_id: &str,
) -> Vec<String> {
    let trace_id = guid(rng);
    let received = ms + rng.random_range(200..3000);
    let from = from_ip.map(|i| i.to_string());
    let org = &w.tenant_domain;
    let mut ids = Vec::with_capacity(to.len());
    for r in to {
        let mut t = String::with_capacity(600);
        let mut o = Obj::new(&mut t);
        o.str("Organization", org)
            .str("MessageId", message_id)
            .str("Received", &format!("/Date({received})/"))
            .str("SenderAddress", sender)
            .str("RecipientAddress", r.address)
            .str("Subject", subject)
            .str("Status", r.status);
        match r.to_ip {
            Some(ip) => o.str("ToIP", &ip.to_string()),
            None => o.null("ToIP"),
        };
        o.opt_str("FromIP", from.as_deref())
            .int("Size", size as i64)
            .str("MessageTraceId", &trace_id);
        o.end_open();
        s.trace(received, &t);
        let mut id = String::with_capacity(trace_id.len() + 1 + r.address.len());
        let _ = write!(id, "{trace_id}:{}", r.address);
        ids.push(id);
    }
    ids
}
