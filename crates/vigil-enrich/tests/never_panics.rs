//! Property tests: classification never panics on arbitrary input, and what it returns is sane.

use std::sync::OnceLock;

use proptest::prelude::*;
use vigil_enrich::Enricher;

fn enricher() -> &'static Enricher {
    static E: OnceLock<Enricher> = OnceLock::new();
    E.get_or_init(Enricher::without_ip_data)
}

fn check_domain(input: &str) {
    if let Some(d) = enricher().registrable_domain(input) {
        assert!(d.is_ascii(), "{input:?} gave non-ASCII {d:?}");
        assert_eq!(&*d, d.to_ascii_lowercase(), "{input:?} gave {d:?}");
        assert!(d.contains('.'), "{input:?} gave {d:?}");
        assert!(
            !d.starts_with('.') && !d.ends_with('.'),
            "{input:?} gave {d:?}"
        );
        assert!(
            d.parse::<std::net::IpAddr>().is_err(),
            "{input:?} gave {d:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn classify_user_agent_never_panics(ua in any::<String>()) {
        let (_, family) = enricher().classify_user_agent(&ua);
        prop_assert!(!family.is_empty());
    }

    #[test]
    fn classify_user_agent_never_panics_on_ua_like_text(
        ua in "(Mozilla/5\\.0 )?[ -~]{0,40}(Chrome|Edg|Teams|Outlook-iOS|iPhone|Android|accountsd|BAV2ROPC)?[/ ();.0-9A-Za-z]{0,40}"
    ) {
        let (_, family) = enricher().classify_user_agent(&ua);
        prop_assert!(!family.is_empty());
    }

    #[test]
    fn classify_client_app_never_panics(app in any::<String>()) {
        let _ = enricher().classify_client_app(&app);
    }

    #[test]
    fn registrable_domain_never_panics(input in any::<String>()) {
        check_domain(&input);
    }

    #[test]
    fn registrable_domain_never_panics_on_address_like_text(
        input in "([a-z]{1,8}://)?([A-Za-z0-9_.:%-]{0,12}@)?[A-Za-z0-9.\\-_\\[\\]:äöü食]{0,40}(:[0-9]{0,6})?(/[ -~]{0,10})?\\.?"
    ) {
        check_domain(&input);
    }
}
