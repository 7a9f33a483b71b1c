//! A mixed, realistic input for the ingest benchmarks: Exchange mailbox audit, Entra logons,
//! SharePoint file activity, inbox rules and sends as Management Activity content blobs; Graph
//! sign-in pages; message trace rows. About 3% duplicates, shuffled within files, a quarter of
//! the files gzipped. Deterministic (xorshift), no dependencies.

use std::io::Write;
use std::path::{Path, PathBuf};

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn uuid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }
    fn ip(&mut self) -> String {
        const PREFIXES: [&str; 8] = [
            "81.2.69.",
            "102.89.34.",
            "14.160.22.",
            "73.162.5.",
            "86.12.200.",
            "185.220.101.",
            "52.97.13.",
            "2.125.160.",
        ];
        format!(
            "{}{}",
            PREFIXES[self.below(8) as usize],
            1 + self.below(250)
        )
    }
}

const BASE_SECS: i64 = 1_643_673_600; // 2022-02-01T00:00:00Z

fn iso(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // 2022-02-01 plus up to 27 days keeps the month simple.
    format!(
        "2022-02-{:02}T{:02}:{:02}:{:02}",
        1 + (days - BASE_SECS / 86_400),
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

fn audit_record(rng: &mut Rng, t: i64) -> String {
    let user = format!("user{}@contoso.com", rng.below(5000));
    let id = rng.uuid();
    let ip = rng.ip();
    let time = iso(t);
    match rng.below(100) {
        0..=34 => format!(
            r#"{{"CreationTime":"{time}","Id":"{id}","Operation":"MailItemsAccessed","OrganizationId":"41463f53-8812-40f4-890f-865bf6e35190","RecordType":50,"ResultStatus":"Succeeded","UserKey":"10032001A2B3C4D5","UserType":0,"Version":1,"Workload":"Exchange","ClientIP":"{ip}:{port}","UserId":"{user}","AppId":"00000002-0000-0ff1-ce00-000000000000","ClientAppId":"{app}","ClientIPAddress":"{ip}","ClientInfoString":"Client=OutlookService;Outlook-iOS/2.0;","ExternalAccess":false,"InternalLogonType":0,"LogonType":0,"LogonUserSid":"S-1-5-21-1825954961-3338807533-2873504967-26087451","MailboxGuid":"{mbx}","MailboxOwnerSid":"S-1-5-21-1825954961-3338807533-2873504967-26087451","MailboxOwnerUPN":"{user}","OperationProperties":[{{"Name":"MailAccessType","Value":"Sync"}},{{"Name":"IsThrottled","Value":"False"}}],"OrganizationName":"contoso.onmicrosoft.com","OriginatingServer":"AM0PR01MB1234 (15.20.4200.000)\r\n","Folders":[{{"FolderItems":[{{"InternetMessageId":"<{m1}@eurprd01.prod.outlook.com>"}},{{"InternetMessageId":"<{m2}@eurprd01.prod.outlook.com>"}}],"Id":"LgAAAAAM7KyTTmWeRac2KXBEz/7aAQARGHK+grzLTpRJraC1QR6kAAAAAAEMAAAB","Path":"\\Inbox"}}],"OperationCount":"{count}"}}"#,
            port = 1024 + rng.below(60000),
            app = rng.uuid(),
            mbx = rng.uuid(),
            m1 = rng.uuid(),
            m2 = rng.uuid(),
            count = 1 + rng.below(20)
        ),
        35..=59 => {
            let failed = rng.below(20) == 0;
            format!(
                r#"{{"CreationTime":"{time}","Id":"{id}","Operation":"{op}","OrganizationId":"41463f53-8812-40f4-890f-865bf6e35190","RecordType":15,"ResultStatus":"Success","UserKey":"{key}","UserType":0,"Version":1,"Workload":"AzureActiveDirectory","ClientIP":"{ip}","ObjectId":"00000002-0000-0ff1-ce00-000000000000","UserId":"{user}","AzureActiveDirectoryEventType":1,"ExtendedProperties":[{{"Name":"ResultStatusDetail","Value":"Success"}},{{"Name":"UserAgent","Value":"{ua}"}},{{"Name":"RequestType","Value":"OAuth2:Token"}}],"ModifiedProperties":[],"Actor":[{{"ID":"{key}","Type":0}},{{"ID":"{user}","Type":5}}],"ActorContextId":"41463f53-8812-40f4-890f-865bf6e35190","ActorIpAddress":"{ip}","InterSystemsId":"{corr}","IntraSystemId":"{req}","SupportTicketId":"","Target":[{{"ID":"00000002-0000-0ff1-ce00-000000000000","Type":0}}],"TargetContextId":"41463f53-8812-40f4-890f-865bf6e35190","ApplicationId":"d3590ed6-52b3-4102-aeff-aad2292ab01c","DeviceProperties":[{{"Name":"OS","Value":"Windows 10"}},{{"Name":"BrowserType","Value":"Edge"}}],"ErrorNumber":"{err}"{logon_error}}}"#,
                op = if failed {
                    "UserLoginFailed"
                } else {
                    "UserLoggedIn"
                },
                key = rng.uuid(),
                ua = if rng.below(3) == 0 {
                    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/98.0.4758.102 Safari/537.36 Edg/98.0.1108.56"
                } else {
                    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.14326; Pro)"
                },
                corr = rng.uuid(),
                req = rng.uuid(),
                err = if failed { "50126" } else { "0" },
                logon_error = if failed {
                    r#","LogonError":"InvalidUserNameOrPassword""#
                } else {
                    ""
                }
            )
        }
        60..=89 => format!(
            r#"{{"CreationTime":"{time}","Id":"{id}","Operation":"{op}","OrganizationId":"41463f53-8812-40f4-890f-865bf6e35190","RecordType":6,"UserKey":"i:0h.f|membership|10032001a2b3c4d5@live.com","UserType":0,"Version":1,"Workload":"SharePoint","ClientIP":"{ip}","ObjectId":"https://contoso.sharepoint.com/sites/finance/Shared Documents/Q{q} report {n}.xlsx","UserId":"{user}","CorrelationId":"{corr}","EventSource":"SharePoint","ItemType":"File","ListId":"{list}","ListItemUniqueId":"{item}","Site":"{site}","UserAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/98.0.4758.102 Safari/537.36","WebId":"{web}","SourceFileExtension":"xlsx","SiteUrl":"https://contoso.sharepoint.com/sites/finance/","SourceFileName":"Q{q} report {n}.xlsx","SourceRelativeUrl":"Shared Documents"}}"#,
            op = [
                "FileAccessed",
                "FileDownloaded",
                "FileUploaded",
                "FileSyncDownloadedFull"
            ][rng.below(4) as usize],
            q = 1 + rng.below(4),
            n = rng.below(1000),
            corr = rng.uuid(),
            list = rng.uuid(),
            item = rng.uuid(),
            site = rng.uuid(),
            web = rng.uuid()
        ),
        90..=94 => format!(
            r#"{{"CreationTime":"{time}","Id":"{id}","Operation":"New-InboxRule","OrganizationId":"41463f53-8812-40f4-890f-865bf6e35190","RecordType":1,"ResultStatus":"True","UserKey":"10032001A2B3C4D5","UserType":2,"Version":1,"Workload":"Exchange","ClientIP":"[2a01:111:f400::{h:x}]:443","ObjectId":"EURPR01A001.prod.outlook.com/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/{user}\\Newsletters","UserId":"{user}","AppId":"","ClientAppId":"","ExternalAccess":false,"OrganizationName":"contoso.onmicrosoft.com","OriginatingServer":"AM0PR01MB1234 (15.20.4200.000)\r\n","Parameters":"[{{\"Name\":\"AlwaysDeleteOutlookRulesBlob\",\"Value\":\"False\"}},{{\"Name\":\"Force\",\"Value\":\"False\"}},{{\"Name\":\"MoveToFolder\",\"Value\":\"Newsletters\"}},{{\"Name\":\"Name\",\"Value\":\"Newsletters\"}},{{\"Name\":\"FromAddressContainsWords\",\"Value\":\"news\"}},{{\"Name\":\"StopProcessingRules\",\"Value\":\"True\"}}]","SessionId":"{sess}"}}"#,
            h = rng.below(65535),
            sess = rng.uuid()
        ),
        _ => format!(
            r#"{{"CreationTime":"{time}","Id":"{id}","Operation":"Send","OrganizationId":"41463f53-8812-40f4-890f-865bf6e35190","RecordType":2,"ResultStatus":"Succeeded","UserKey":"10032001A2B3C4D5","UserType":0,"Version":1,"Workload":"Exchange","ClientIP":"{ip}","UserId":"{user}","ClientIPAddress":"{ip}","ClientInfoString":"Client=MSExchangeRPC","ExternalAccess":false,"InternalLogonType":0,"LogonType":0,"MailboxGuid":"{mbx}","MailboxOwnerUPN":"{user}","OrganizationName":"contoso.onmicrosoft.com","OriginatingServer":"AM0PR01MB1234 (15.20.4200.000)\r\n","Item":{{"Id":"RgAAAAB","InternetMessageId":"<{mid}@eurprd01.prod.outlook.com>","ParentFolder":{{"Id":"LgAAAAAM","Path":"\\Sent Items"}},"SizeInBytes":{size},"Subject":"Re: project status {n}"}}}}"#,
            mbx = rng.uuid(),
            mid = rng.uuid(),
            size = 2000 + rng.below(200000),
            n = rng.below(500)
        ),
    }
}

fn sign_in(rng: &mut Rng, t: i64) -> String {
    let user = format!("user{}@contoso.com", rng.below(5000));
    let failed = rng.below(25) == 0;
    format!(
        r#"{{"id":"{id}","createdDateTime":"{time}Z","userDisplayName":"User","userPrincipalName":"{user}","userId":"{uid}","appId":"00000002-0000-0ff1-ce00-000000000000","appDisplayName":"Office 365 Exchange Online","ipAddress":"{ip}","clientAppUsed":"{client}","correlationId":"{corr}","conditionalAccessStatus":"notApplied","isInteractive":{interactive},"riskDetail":"none","riskLevelAggregated":"none","riskLevelDuringSignIn":"none","riskState":"none","riskEventTypes":[],"riskEventTypes_v2":[],"resourceDisplayName":"Office 365 Exchange Online","resourceId":"00000002-0000-0ff1-ce00-000000000000","status":{{"errorCode":{err},"failureReason":"{reason}","additionalDetails":null}},"deviceDetail":{{"deviceId":"","displayName":"","operatingSystem":"Windows 10","browser":"Edge 98.0.1108","isCompliant":false,"isManaged":false,"trustType":""}},"location":{{"city":"London","state":"England","countryOrRegion":"GB","geoCoordinates":{{"altitude":null,"latitude":51.5,"longitude":-0.12}}}},"appliedConditionalAccessPolicies":[],"authenticationRequirement":"singleFactorAuthentication","authenticationProtocol":"none","userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/98.0.4758.102 Safari/537.36 Edg/98.0.1108.56"}}"#,
        id = rng.uuid(),
        time = iso(t),
        uid = rng.uuid(),
        ip = rng.ip(),
        client = if rng.below(10) == 0 {
            "Other clients"
        } else {
            "Browser"
        },
        corr = rng.uuid(),
        interactive = rng.below(2) == 0,
        err = if failed { 50126 } else { 0 },
        reason = if failed {
            "Invalid username or password."
        } else {
            "Other."
        }
    )
}

fn message_trace(rng: &mut Rng, t: i64) -> String {
    format!(
        r#"{{"Organization":"contoso.onmicrosoft.com","MessageId":"<{mid}@eurprd01.prod.outlook.com>","Received":"/Date({ms})/","SenderAddress":"user{s}@contoso.com","RecipientAddress":"{r}","Subject":"Re: project status {n}","Status":"Delivered","ToIP":null,"FromIP":"{ip}","Size":{size},"MessageTraceId":"{tid}","StartDate":"/Date(1643673600000)/","EndDate":"/Date(1644278400000)/","Index":{idx}}}"#,
        mid = rng.uuid(),
        ms = t * 1000,
        s = rng.below(5000),
        r = if rng.below(2) == 0 {
            format!("user{}@contoso.com", rng.below(5000))
        } else {
            format!("partner{}@fabrikam.co.uk", rng.below(900))
        },
        n = rng.below(500),
        ip = rng.ip(),
        size = 2000 + rng.below(200000),
        tid = rng.uuid(),
        idx = rng.below(1000)
    )
}

/// Writes about `target_bytes` of mixed input into `dir`, in files of about `file_bytes`.
/// Returns the files and the number of records written (duplicates included).
pub fn write_mixed_input(
    dir: &Path,
    target_bytes: u64,
    file_bytes: u64,
    seed: u64,
) -> (Vec<PathBuf>, u64) {
    let mut rng = Rng::new(seed);
    let mut files = Vec::new();
    let mut written = 0u64;
    let mut records = 0u64;
    let mut t = BASE_SECS;
    let mut index = 0;
    while written < target_bytes {
        let kind = index % 4; // audit, audit, sign-ins, message trace
        let mut recs: Vec<String> = Vec::new();
        let mut size = 0u64;
        while size < file_bytes {
            t += rng.below(3) as i64;
            let r = match kind {
                0 | 1 => audit_record(&mut rng, t),
                2 => sign_in(&mut rng, t),
                _ => message_trace(&mut rng, t),
            };
            size += r.len() as u64 + 1;
            recs.push(r);
            if rng.below(33) == 0 {
                let dup = recs[rng.below(recs.len() as u64) as usize].clone();
                size += dup.len() as u64 + 1;
                recs.push(dup);
            }
        }
        // Shuffle a little: swap neighbours, as the API delivers slightly out of order.
        for i in 1..recs.len() {
            if rng.below(8) == 0 {
                recs.swap(i - 1, i);
            }
        }
        records += recs.len() as u64;
        let body = match kind {
            2 => format!(
                "{{\"@odata.context\":\"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns\",\"value\":[{}]}}",
                recs.join(",")
            ),
            3 => format!("[{}]", recs.join(",\n")),
            _ => format!("[{}]", recs.join(",")),
        };
        let gz = index % 4 == 1;
        let name = format!(
            "{:05}-{}.json{}",
            index,
            ["audit", "audit", "signins", "trace"][kind],
            if gz { ".gz" } else { "" }
        );
        let path = dir.join(name);
        let f = std::fs::File::create(&path).expect("create input file");
        if gz {
            let mut enc = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
            enc.write_all(body.as_bytes()).expect("write");
            enc.finish().expect("finish gzip");
        } else {
            let mut w = std::io::BufWriter::new(f);
            w.write_all(body.as_bytes()).expect("write");
        }
        written += body.len() as u64;
        files.push(path);
        index += 1;
    }
    (files, records)
}

/// Replay options with a reordering window of 0: the stages the ingest issue names, without
/// holding events for reordering.
#[allow(dead_code)] // `bench_input` writes input only
pub fn without_window() -> vigil_ingest::ReplayOptions {
    vigil_ingest::ReplayOptions {
        ingest: vigil_ingest::IngestConfig {
            reorder_window_secs: 0,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The enrichment the benchmarks run: the configured data directory, or else the repository's
/// `data/ip` (benchmarks and examples run from the crate directory). Panics, saying what to run,
/// when the data is missing: a benchmark without it would measure something else.
#[allow(dead_code)] // `bench_input` writes input only
pub fn load_enricher() -> vigil_enrich::Enricher {
    let mut config = vigil_enrich::EnrichConfig::default();
    if std::env::var_os(vigil_enrich::DATA_DIR_ENV).is_none() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/ip");
        config.country_mmdb = Some(dir.join(vigil_enrich::COUNTRY_MMDB_FILE));
        config.asn_csv = vigil_enrich::ASN_CSV_FILES
            .iter()
            .map(|f| dir.join(f))
            .collect();
    }
    config.resolve_defaults();
    let enricher = vigil_enrich::Enricher::load(&config)
        .expect("enrichment data (run scripts/fetch-ip-data.sh)");
    assert!(
        enricher.has_country_data(),
        "run scripts/fetch-ip-data.sh first"
    );
    enricher
}

/// Parsing alone over `files`: the benchmarks' baseline. Returns the records deserialised.
#[allow(dead_code)] // `bench_input` writes input only
pub fn parse_only(files: &[PathBuf]) -> u64 {
    files
        .iter()
        .map(|f| {
            vigil_sources::FileReader::open(f, None, std::sync::Arc::default())
                .expect("open")
                .deserialize_only()
        })
        .sum()
}

/// A replay of `files` into a sink that only counts: the ingest paths of the benchmarks.
#[allow(dead_code)] // `bench_input` writes input only
pub fn replay_counting(
    files: &[PathBuf],
    options: &vigil_ingest::ReplayOptions,
    enrich: &(dyn Fn(&mut vigil_event::Event) + Sync),
) -> u64 {
    let mut n = 0u64;
    let summary = vigil_ingest::replay(
        files,
        options,
        enrich,
        &vigil_ingest::NoProgress,
        &mut |e| {
            n += 1;
            std::hint::black_box(e);
        },
    )
    .expect("replay");
    assert_eq!(
        summary.rejected, 0,
        "the benchmark input has no bad records"
    );
    n
}
