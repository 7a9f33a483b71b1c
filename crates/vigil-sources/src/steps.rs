//! A record's parse in its two steps, for the shapes whose files hold many records each:
//! deserialising the text into the shape's typed record, then normalising that into an event.
//!
//! [`crate::FileReader`] takes a run of records through the first step before any goes
//! through the second. Record by record, the deserialiser's code and the normaliser's took
//! turns and evicted each other from the instruction cache; in runs each stays in cache. The
//! two steps are exactly what [`crate::Shape::parse_shared`] does in one call.

use std::sync::Arc;

use vigil_event::{Event, Format};

use crate::{audit, msgtrace, signin, FieldError};

/// The two steps of one shape.
pub(crate) trait Steps {
    /// The typed record, borrowing the text it was read from.
    type Record<'a>;
    fn deserialize(raw: &str) -> serde_json::Result<Self::Record<'_>>;
    fn normalise(
        &self,
        record: Self::Record<'_>,
        raw: &str,
        shared: Option<&Arc<str>>,
    ) -> Result<Event, FieldError>;
}

/// Management Activity API records (and the OfficeActivity table), in the given format.
pub(crate) struct AuditSteps(pub Format);

impl Steps for AuditSteps {
    type Record<'a> = audit::AuditRecord<'a>;

    fn deserialize(raw: &str) -> serde_json::Result<audit::AuditRecord<'_>> {
        serde_json::from_str(raw)
    }

    fn normalise(
        &self,
        record: audit::AuditRecord<'_>,
        raw: &str,
        shared: Option<&Arc<str>>,
    ) -> Result<Event, FieldError> {
        audit::from_record(record, raw, shared, self.0)
    }
}

/// Message trace rows, either timestamp style.
pub(crate) struct TraceSteps;

impl Steps for TraceSteps {
    type Record<'a> = msgtrace::MessageTraceRow<'a>;

    fn deserialize(raw: &str) -> serde_json::Result<msgtrace::MessageTraceRow<'_>> {
        serde_json::from_str(raw)
    }

    fn normalise(
        &self,
        record: msgtrace::MessageTraceRow<'_>,
        raw: &str,
        shared: Option<&Arc<str>>,
    ) -> Result<Event, FieldError> {
        msgtrace::from_row(record, raw, shared)
    }
}

/// Graph sign-ins or Log Analytics SigninLogs rows (the format says which).
pub(crate) struct SignInSteps(pub Format);

impl Steps for SignInSteps {
    type Record<'a> = signin::SignInRecord<'a>;

    fn deserialize(raw: &str) -> serde_json::Result<signin::SignInRecord<'_>> {
        serde_json::from_str(raw)
    }

    fn normalise(
        &self,
        record: signin::SignInRecord<'_>,
        raw: &str,
        // Sign-ins keep a copy of their text, as `Shape::parse_shared` gives them.
        _shared: Option<&Arc<str>>,
    ) -> Result<Event, FieldError> {
        signin::from_sign_in_record(record, raw, self.0)
    }
}
