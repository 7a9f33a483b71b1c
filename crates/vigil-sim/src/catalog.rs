//! Fixed knowledge: Microsoft first-party applications, third-party apps, clients and their
//! user agents, and the words people put in subjects, files and rules.

/// An Entra application (client or resource).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct App {
    pub name: &'static str,
    pub id: &'static str,
}

const fn app(name: &'static str, id: &'static str) -> App {
    App { name, id }
}

pub(crate) const OFFICE: App = app("Microsoft Office", "d3590ed6-52b3-4102-aeff-aad2292ab01c");
pub(crate) const OUTLOOK_MOBILE: App =
    app("Outlook Mobile", "27922004-5251-4030-b22d-91ecd9a37ea4");
pub(crate) const TEAMS: App = app("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264");
pub(crate) const OFFICE_HOME: App = app("OfficeHome", "4765445b-32c6-49b0-83e6-1d93765276ca");
pub(crate) const EXO: App = app(
    "Office 365 Exchange Online",
    "00000002-0000-0ff1-ce00-000000000000",
);
pub(crate) const SPO: App = app(
    "Office 365 SharePoint Online",
    "00000003-0000-0ff1-ce00-000000000000",
);
pub(crate) const GRAPH: App = app("Microsoft Graph", "00000003-0000-0000-c000-000000000000");
pub(crate) const AZURE_PORTAL: App = app("Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c");
pub(crate) const EXO_PS: App = app(
    "Microsoft Exchange REST API Based Powershell",
    "fb78d390-0c51-40cd-8e17-fdbfab77341b",
);
pub(crate) const ONEDRIVE_SYNC: App = app(
    "OneDrive SyncEngine",
    "ab9b8c07-8f02-4f72-87fa-80105867a763",
);
pub(crate) const MY_SIGNINS: App = app("My Signins", "19db86c3-b2b9-44cc-b339-36da233a3be2");
pub(crate) const AAD_PS: App = app(
    "Azure Active Directory PowerShell",
    "1b730954-1685-4b74-9bfd-dac224a7b894",
);
pub(crate) const ADMIN_PORTAL: App = app(
    "Microsoft Office 365 Portal",
    "00000006-0000-0ff1-ce00-000000000000",
);

/// A third-party application people consent to.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ThirdParty {
    pub name: &'static str,
    pub domain: &'static str,
    pub scopes: &'static [&'static str],
    /// User agent the app's own servers use when they call Microsoft 365.
    pub agent: &'static str,
}

const fn tp(
    name: &'static str,
    domain: &'static str,
    scopes: &'static [&'static str],
    agent: &'static str,
) -> ThirdParty {
    ThirdParty {
        name,
        domain,
        scopes,
        agent,
    }
}

/// Apps ordinary users consent to.
pub(crate) const BENIGN_APPS: &[ThirdParty] = &[
    tp(
        "Zoom for Outlook",
        "zoom.us",
        &["User.Read", "Calendars.ReadWrite", "offline_access"],
        "Zoom/5.9",
    ),
    tp(
        "Boomerang for Outlook",
        "boomeranggmail.com",
        &[
            "User.Read",
            "Mail.ReadWrite",
            "Mail.Send",
            "Calendars.ReadWrite",
            "offline_access",
        ],
        "Boomerang/3.0",
    ),
    tp(
        "Calendly",
        "calendly.com",
        &["User.Read", "Calendars.ReadWrite", "offline_access"],
        "Calendly",
    ),
    tp(
        "Grammarly",
        "grammarly.com",
        &["User.Read", "offline_access"],
        "Grammarly",
    ),
    tp(
        "Adobe Acrobat",
        "adobe.com",
        &["User.Read", "Files.ReadWrite.All", "offline_access"],
        "Adobe Acrobat",
    ),
    tp(
        "Spark",
        "readdle.com",
        &[
            "User.Read",
            "Mail.ReadWrite",
            "Mail.Send",
            "Calendars.ReadWrite",
            "offline_access",
        ],
        "Spark/2.11",
    ),
    tp(
        "Trello",
        "trello.com",
        &["User.Read", "offline_access"],
        "Trello",
    ),
    tp(
        "Miro",
        "miro.com",
        &["User.Read", "Files.Read", "offline_access"],
        "Miro",
    ),
    tp(
        "Slack",
        "slack.com",
        &["User.Read", "Calendars.Read", "offline_access"],
        "Slackbot 1.0",
    ),
];

/// Mail apps abused to send mail in the reference case's manner.
pub(crate) const CHAIN_APPS: &[ThirdParty] = &[
    tp(
        "Spike",
        "spikenow.com",
        &[
            "User.Read",
            "Mail.ReadWrite",
            "Mail.Send",
            "Contacts.Read",
            "Calendars.ReadWrite",
            "offline_access",
        ],
        "Spike/2.4 (Macintosh; Mac OS X)",
    ),
    tp(
        "eM Client",
        "emclient.com",
        &[
            "User.Read",
            "Mail.ReadWrite",
            "Mail.Send",
            "offline_access",
            "IMAP.AccessAsUser.All",
            "SMTP.Send",
        ],
        "eM Client/9.0.1317.0",
    ),
    tp(
        "BlueMail",
        "bluemail.me",
        &["User.Read", "Mail.ReadWrite", "Mail.Send", "offline_access"],
        "BlueMail/1.9",
    ),
    tp(
        "Newton Mail",
        "newtonhq.com",
        &["User.Read", "Mail.ReadWrite", "Mail.Send", "offline_access"],
        "Newton/11.0",
    ),
    tp(
        "Mail Sync Pro",
        "mailsyncpro.net",
        &["User.Read", "Mail.ReadWrite", "Mail.Send", "offline_access"],
        "MailSyncPro/1.2",
    ),
];

/// Rare apps an illicit-consent phish asks for.
pub(crate) const ILLICIT_APPS: &[ThirdParty] = &[
    tp(
        "Mail Sync Pro",
        "mailsyncpro.net",
        &[],
        "python-requests/2.27.1",
    ),
    tp(
        "Document Viewer",
        "docviewer-online.com",
        &[],
        "python-requests/2.26.0",
    ),
    tp(
        "O365 Secure Access",
        "o365-secure-access.com",
        &[],
        "axios/0.24.0",
    ),
    tp(
        "PDF Converter Online",
        "pdfconverteronline.app",
        &[],
        "Go-http-client/1.1",
    ),
    tp("eSign Pro", "esignpro.io", &[], "python-requests/2.27.1"),
    tp(
        "PerfectData Software",
        "perfectdatasoftware.com",
        &[],
        "PerfectData/3.1",
    ),
    tp(
        "Outlook Add-in Manager",
        "addin-manager.net",
        &[],
        "node-fetch/1.0",
    ),
];

pub(crate) const ILLICIT_SCOPES: &[&[&str]] = &[
    &["User.Read", "Mail.Read", "Files.Read.All", "offline_access"],
    &[
        "User.Read",
        "Mail.Read",
        "Mail.ReadBasic",
        "Files.Read.All",
        "Contacts.Read",
        "offline_access",
    ],
    &[
        "openid",
        "profile",
        "Mail.Read",
        "Files.Read.All",
        "Sites.Read.All",
        "offline_access",
    ],
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Desktop {
    Windows,
    Mac,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Browser {
    Chrome,
    Edge,
    Firefox,
    Safari,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Phone {
    pub ios: bool,
    /// Index into the model lists.
    pub model: u8,
}

pub(crate) fn os_name(d: Desktop) -> &'static str {
    match d {
        Desktop::Windows => "Windows 10",
        Desktop::Mac => "MacOs",
    }
}

pub(crate) fn browser_name(b: Browser) -> &'static str {
    match b {
        Browser::Chrome => "Chrome 97.0.4692",
        Browser::Edge => "Edge 97.0.1072",
        Browser::Firefox => "Firefox 96.0",
        Browser::Safari => "Safari 15.2",
    }
}

pub(crate) fn browser_ua(d: Desktop, b: Browser) -> &'static str {
    match (d, b) {
        (Desktop::Windows, Browser::Chrome) => "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/97.0.4692.99 Safari/537.36",
        (Desktop::Windows, Browser::Edge) => "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/97.0.4692.99 Safari/537.36 Edg/97.0.1072.76",
        (Desktop::Windows, _) => "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:96.0) Gecko/20100101 Firefox/96.0",
        (Desktop::Mac, Browser::Safari) => "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.2 Safari/605.1.15",
        (Desktop::Mac, Browser::Firefox) => "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:96.0) Gecko/20100101 Firefox/96.0",
        (Desktop::Mac, _) => "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/97.0.4692.99 Safari/537.36",
    }
}

pub(crate) fn outlook_ua(d: Desktop) -> &'static str {
    match d {
        Desktop::Windows => {
            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.14326; Pro)"
        }
        Desktop::Mac => {
            "Microsoft Office/16.0 (Macintosh; Mac OS X 10.15.7; Microsoft Outlook 16.57)"
        }
    }
}

pub(crate) fn teams_ua(d: Desktop) -> &'static str {
    match d {
        Desktop::Windows => "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Teams/1.5.00.2164 Chrome/91.0.4472.164 Electron/13.6.6 Safari/537.36",
        Desktop::Mac => "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Teams/1.5.00.2164 Chrome/91.0.4472.164 Electron/13.6.6 Safari/537.36",
    }
}

pub(crate) const SYNC_UA: &str =
    "Microsoft SkyDriveSync 22.002.0103.0004 ship; Windows NT 10.0 (19044)";

const IOS_MODELS: &[(&str, &str)] = &[
    (
        "Outlook-iOS/709.2189947.prod.iphone (4.2201.0)",
        "Ios 15.2.1",
    ),
    ("Outlook-iOS/709.2226005.prod.iphone (4.2203.0)", "Ios 15.3"),
    (
        "Outlook-iOS/709.2144418.prod.iphone (4.2149.0)",
        "Ios 14.8.1",
    ),
    ("Outlook-iOS/709.2189947.prod.iphone (4.2201.0)", "Ios 15.1"),
];

const ANDROID_MODELS: &[(&str, &str)] = &[
    ("Outlook-Android/2.0", "Android 12"),
    ("Outlook-Android/2.0", "Android 11"),
    ("Outlook-Android/2.0", "Android 10"),
];

pub(crate) const PHONE_MODELS: u8 = 3;

pub(crate) fn phone_ua(p: Phone) -> &'static str {
    if p.ios {
        IOS_MODELS[p.model as usize % IOS_MODELS.len()].0
    } else {
        ANDROID_MODELS[p.model as usize % ANDROID_MODELS.len()].0
    }
}

pub(crate) fn phone_os(p: Phone) -> &'static str {
    if p.ios {
        IOS_MODELS[p.model as usize % IOS_MODELS.len()].1
    } else {
        ANDROID_MODELS[p.model as usize % ANDROID_MODELS.len()].1
    }
}

/// User agents attackers' tools present when they use a browser flow.
pub(crate) const ATTACKER_BROWSER_UAS: &[(&str, &str, &str)] = &[
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0.4664.110 Safari/537.36",
        "Windows 10",
        "Chrome 96.0.4664",
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/97.0.4692.71 Safari/537.36",
        "Linux",
        "Chrome 97.0.4692",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:95.0) Gecko/20100101 Firefox/95.0",
        "Windows 10",
        "Firefox 95.0",
    ),
    (
        "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/94.0.4606.81 Safari/537.36",
        "Windows 7",
        "Chrome 94.0.4606",
    ),
];

/// Scripted clients seen in password sprays.
pub(crate) const SPRAY_UAS: &[&str] = &[
    "BAV2ROPC",
    "python-requests/2.27.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/90.0.4430.93 Safari/537.36",
    "Go-http-client/1.1",
];

pub(crate) const DEPARTMENTS: &[&str] = &[
    "Finance",
    "HR",
    "Sales",
    "Marketing",
    "Engineering",
    "Legal",
    "Operations",
    "IT",
    "Projects",
    "Executive",
];

pub(crate) const DOC_KINDS: &[(&str, &str)] = &[
    ("Budget", "xlsx"),
    ("Forecast", "xlsx"),
    ("Report", "docx"),
    ("Minutes", "docx"),
    ("Proposal", "docx"),
    ("Contract", "pdf"),
    ("Invoice", "pdf"),
    ("Presentation", "pptx"),
    ("Plan", "docx"),
    ("Headcount", "xlsx"),
    ("Pricing", "xlsx"),
    ("Policy", "pdf"),
    ("Roadmap", "pptx"),
    ("Timesheet", "xlsx"),
    ("Specification", "docx"),
];

pub(crate) const SUBJECTS: &[&str] = &[
    "Q1 budget review",
    "Meeting notes",
    "Project timeline",
    "Updated contract draft",
    "Lunch on Thursday?",
    "Weekly status report",
    "Action items from today's call",
    "Travel itinerary",
    "Customer escalation",
    "Board pack",
    "Holiday rota",
    "Invoice query",
    "Quick question",
    "Slides for tomorrow",
    "Revised proposal",
    "Headcount plan",
    "Offsite agenda",
    "Purchase order",
    "Feedback on the draft",
    "Supplier onboarding",
    "Team update",
    "Interview schedule",
    "Month-end close",
    "Pricing approval",
    "Renewal terms",
    "Support ticket",
    "Workshop follow-up",
    "Expense report",
    "Site visit",
    "Release notes",
];

pub(crate) const SAAS_SENDERS: &[&str] = &[
    "notifications@github.com",
    "no-reply@zoom.us",
    "dse@docusign.net",
    "noreply@salesforce.com",
    "jira@atlassian.net",
    "messages-noreply@linkedin.com",
    "no-reply@sharepointonline.com",
    "billing@aws.amazon.com",
];

pub(crate) const FREEMAIL: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "hotmail.com",
    "icloud.com",
    "gmx.com",
];

pub(crate) const ATTACKER_FREEMAIL: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "protonmail.com",
    "yandex.com",
    "mail.ru",
    "gmx.com",
    "aol.com",
];

pub(crate) const ORG_NAMES: &[(&str, &str)] = &[
    ("Fabrikam", "fabrikam.com"),
    ("Northwind Traders", "northwindtraders.com"),
    ("Tailspin Toys", "tailspintoys.com"),
    ("Woodgrove Bank", "woodgrovebank.com"),
    ("Litware", "litwareinc.com"),
    ("Adatum", "adatum.com"),
    ("Proseware", "proseware.com"),
    ("Wingtip Toys", "wingtiptoys.com"),
    ("Alpine Ski House", "alpineskihouse.com"),
    ("Coho Winery", "cohowinery.com"),
    ("Trey Research", "treyresearch.net"),
    ("Lucerne Publishing", "lucernepublishing.com"),
    ("Margie's Travel", "margiestravel.com"),
    ("Relecloud", "relecloud.com"),
    ("Fourth Coffee", "fourthcoffee.com"),
    ("Wide World Importers", "wideworldimporters.com"),
    ("Humongous Insurance", "humongousinsurance.com"),
    ("Blue Yonder Airlines", "blueyonderairlines.com"),
    ("Contoso", "contoso.com"),
    ("Adventure Works", "adventure-works.com"),
    ("Graphic Design Institute", "graphicdesigninstitute.com"),
    ("Consolidated Messenger", "consolidatedmessenger.com"),
    ("Southridge Video", "southridgevideo.com"),
    ("Tailwind Traders", "tailwindtraders.com"),
    ("School of Fine Art", "fineartschool.net"),
    ("City Power & Light", "cpandl.com"),
];

/// Folders attackers hide mail in.
pub(crate) const HIDING_FOLDERS: &[&str] = &[
    "RSS Subscriptions",
    "RSS Feeds",
    "Conversation History",
    "Archive",
    "Deleted Items",
    "Junk Email",
];

pub(crate) const SPAM_SUBJECTS: &[&str] = &[
    "Shared Document",
    "View Shared Link",
    "You have received a document",
    "Invoice shared with you",
    "Payment Remittance Advice",
    "New document shared via OneDrive",
    "Please review the attached proposal",
    "RFQ - Request for Quotation",
];

pub(crate) const ROLES: &[&str] = &[
    "Exchange Administrator",
    "User Administrator",
    "Helpdesk Administrator",
    "SharePoint Administrator",
    "Global Reader",
    "Teams Administrator",
];
