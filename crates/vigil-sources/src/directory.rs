//! Directory (Entra ID) activities that arrive both through the Management Activity API
//! (Audit.AzureActiveDirectory) and through Entra's own directory audit log. Both are reduced to
//! a [`DirectoryView`] and classified here once.

use vigil_event::{
    AccountSecurity, AppConsent, ConsentKind, EventKind, NameValue, RoleMembership, SecurityChange,
    ServicePrincipalChange, ServicePrincipalChangeKind,
};

/// An object a directory activity acted on.
#[derive(Debug, Default, Clone)]
pub struct Target {
    pub id: Option<String>,
    pub name: Option<String>,
    pub upn: Option<String>,
    /// "User", "ServicePrincipal", "Application", or the audit log's numeric type.
    pub kind: Option<String>,
}

/// What a directory activity says, whatever the shape it came in.
#[derive(Debug, Default)]
pub struct DirectoryView<'a> {
    /// Operation without its trailing full stop.
    pub operation: &'a str,
    /// Modified properties: name and new value.
    pub modified: Vec<NameValue>,
    /// Modified properties: name and old value.
    pub previous: Vec<NameValue>,
    pub targets: Vec<Target>,
    /// ObjectId of a Management Activity record (often the target's UPN or name).
    pub object_id: Option<&'a str>,
}

impl DirectoryView<'_> {
    fn modified(&self, name: &str) -> Option<&str> {
        self.modified
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| &*p.value)
    }

    /// A modified property's old value, unquoted, if not empty.
    fn previous(&self, name: &str) -> Option<&str> {
        self.previous
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| unquote(&p.value))
            .filter(|v| !v.is_empty())
    }

    fn app_name(&self) -> Option<Box<str>> {
        self.targets
            .iter()
            .find(|t| {
                t.kind.as_deref().is_some_and(|k| {
                    k.eq_ignore_ascii_case("ServicePrincipal")
                        || k.eq_ignore_ascii_case("Application")
                })
            })
            .and_then(|t| t.name.clone())
            .or_else(|| {
                // Management Activity targets: Type 1 is a display name.
                self.targets
                    .iter()
                    .find(|t| t.kind.as_deref() == Some("1"))
                    .and_then(|t| t.id.clone())
            })
            .or_else(|| self.targets.iter().find_map(|t| t.name.clone()))
            .or_else(|| {
                self.object_id
                    .filter(|o| !o.is_empty() && !looks_like_guid(o))
                    .map(str::to_owned)
            })
            .map(Into::into)
    }

    /// The application (client) id. Target ids are mostly object ids of the service principal,
    /// so the properties that name the app id come first, then a Management Activity target of
    /// type 4 (SPN, which carries the app id), and only then any GUID-shaped target id.
    fn app_id(&self) -> Option<Box<str>> {
        [
            "AppId",
            "ServicePrincipal.AppId",
            "AppPrincipalId",
            "TargetId.ServicePrincipalNames",
        ]
        .iter()
        .find_map(|p| self.modified(p).and_then(first_guid))
        .or_else(|| {
            self.targets
                .iter()
                .filter(|t| t.kind.as_deref() == Some("4"))
                .filter_map(|t| t.id.as_deref())
                .find_map(first_guid)
        })
        .or_else(|| {
            self.targets
                .iter()
                .filter_map(|t| t.id.as_deref())
                .find(|id| looks_like_guid(id))
        })
        .map(Into::into)
    }

    fn target_user(&self) -> Option<Box<str>> {
        self.targets
            .iter()
            .find_map(|t| {
                t.upn
                    .clone()
                    .or_else(|| {
                        (t.kind.as_deref() == Some("5"))
                            .then(|| t.id.clone())
                            .flatten()
                    })
                    .filter(|u| u.contains('@'))
            })
            .or_else(|| {
                self.object_id
                    .filter(|o| o.contains('@'))
                    .map(str::to_owned)
            })
            .map(|u| u.to_lowercase().into())
    }
}

fn looks_like_guid(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4
}

/// The first GUID in a value such as `"8a1f..."`, `["8a1f..."]` or `8a1f.../host;https://...`.
fn first_guid(text: &str) -> Option<&str> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .find(|t| {
            t.len() == 36
                && t.char_indices().all(|(i, c)| {
                    if matches!(i, 8 | 13 | 18 | 23) {
                        c == '-'
                    } else {
                        c.is_ascii_hexdigit()
                    }
                })
        })
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches('"').trim()
}

/// Scopes from `ConsentAction.Permissions` (`... Scope:  Mail.Read offline_access, ...`) or from
/// `DelegatedPermissionGrant.Scope` / `AppRole.Value` (`"Mail.Read offline_access"`).
pub fn parse_scopes(text: &str) -> Vec<Box<str>> {
    let mut out: Vec<Box<str>> = Vec::new();
    let mut add = |piece: &str| {
        for token in piece.split(|c: char| c.is_whitespace() || c == ',' || c == '"') {
            let token = token.trim_matches(|c: char| c == '[' || c == ']' || c == '\\');
            if !token.is_empty()
                && token
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                && !out.iter().any(|o| &**o == token)
            {
                out.push(token.into());
            }
        }
    };
    if text.contains("Scope:") {
        for part in text.split("Scope:").skip(1) {
            let end = part.find([',', ']']).unwrap_or(part.len());
            add(&part[..end]);
        }
    } else {
        add(text);
    }
    out
}

/// The typed kind of a directory activity, or `None` when Vigil has no type for it.
pub fn classify(view: &DirectoryView) -> Option<EventKind> {
    let op = view.operation.to_ascii_lowercase();
    let op = op.replace(['–', '—'], "-");
    let consent = |consent: ConsentKind, scope_props: &[&str]| {
        let scopes = scope_props
            .iter()
            .find_map(|p| view.modified(p))
            .map(parse_scopes)
            .unwrap_or_default();
        let admin_consent = view
            .modified("ConsentContext.IsAdminConsent")
            .and_then(|v| crate::lenient::parse_bool(unquote(v)));
        EventKind::AppConsent(AppConsent {
            consent,
            app_name: view.app_name(),
            app_id: view.app_id(),
            scopes,
            admin_consent,
        })
    };
    let sp = |change| {
        EventKind::ServicePrincipal(ServicePrincipalChange {
            change,
            app_name: view.app_name(),
            app_id: view.app_id(),
        })
    };
    let security = |change| {
        let properties = view
            .modified
            .iter()
            .map(|p| p.name.clone())
            .filter(|n| !n.is_empty())
            .collect();
        EventKind::AccountSecurity(AccountSecurity {
            change,
            target_user: view.target_user(),
            properties,
        })
    };
    let role = |added| {
        EventKind::RoleMembership(RoleMembership {
            added,
            // A removal carries the role in the old value only (Graph's newValue is null).
            role: view
                .modified("Role.DisplayName")
                .map(unquote)
                .filter(|v| !v.is_empty())
                .or_else(|| view.previous("Role.DisplayName"))
                .map(Into::into),
            target_user: view.target_user(),
        })
    };
    Some(match op.as_str() {
        "consent to application" => consent(
            ConsentKind::ConsentToApplication,
            &[
                "ConsentAction.Permissions",
                "DelegatedPermissionGrant.Scope",
            ],
        ),
        "add oauth2permissiongrant" | "add delegated permission grant" => consent(
            ConsentKind::DelegatedPermissionGrant,
            &[
                "DelegatedPermissionGrant.Scope",
                "ConsentAction.Permissions",
            ],
        ),
        "add app role assignment to service principal" => consent(
            ConsentKind::AppRoleAssignment,
            &["AppRole.Value", "AppRole.DisplayName"],
        ),
        "add service principal" => sp(ServicePrincipalChangeKind::Added),
        "add service principal credentials"
        | "update application - certificates and secrets management" => {
            sp(ServicePrincipalChangeKind::CredentialsAdded)
        }
        "remove service principal" | "delete application" => {
            sp(ServicePrincipalChangeKind::Removed)
        }
        "update service principal" | "update application" => {
            sp(ServicePrincipalChangeKind::Updated)
        }
        "user registered security info" | "user registered all required security info" => {
            security(SecurityChange::SecurityInfoRegistered)
        }
        "user deleted security info" => security(SecurityChange::SecurityInfoDeleted),
        "disable strong authentication" => security(SecurityChange::StrongAuthenticationDisabled),
        "update user"
            if view
                .modified
                .iter()
                .any(|p| p.name.to_ascii_lowercase().contains("strongauthentication")) =>
        {
            security(SecurityChange::StrongAuthenticationChanged)
        }
        "reset user password"
        | "reset password (by admin)"
        | "reset password (self-service)"
        | "set force change user password" => security(SecurityChange::PasswordReset),
        "change user password" | "change password (self-service)" => {
            security(SecurityChange::PasswordChanged)
        }
        "add member to role" | "add eligible member to role" => role(true),
        "remove member from role" | "remove eligible member from role" => role(false),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_from_consent_permissions_text() {
        let text = "[] => [[Id: abc, ClientId: 1, PrincipalId: , ResourceId: 2, ConsentType: Principal, Scope:  Mail.ReadWrite Mail.Send offline_access, CreatedDateTime: , LastModifiedDateTime: ]]; ";
        let s = parse_scopes(text);
        assert_eq!(
            s.iter().map(|s| &**s).collect::<Vec<_>>(),
            vec!["Mail.ReadWrite", "Mail.Send", "offline_access"]
        );
        let s = parse_scopes("\"Files.Read.All User.Read\"");
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn update_user_is_typed_only_for_strong_authentication_changes() {
        let mut view = DirectoryView {
            operation: "Update user",
            modified: vec![NameValue {
                name: "DisplayName".into(),
                value: "x".into(),
            }],
            ..Default::default()
        };
        assert!(classify(&view).is_none());
        view.modified.push(NameValue {
            name: "StrongAuthenticationMethod".into(),
            value: "[]".into(),
        });
        assert!(matches!(
            classify(&view),
            Some(EventKind::AccountSecurity(AccountSecurity {
                change: SecurityChange::StrongAuthenticationChanged,
                ..
            }))
        ));
    }
}
