//! Cache prefetch hints for events about to leave the reordering window.
//!
//! A hint never faults and never changes what the program computes: on targets without one
//! these functions do nothing.

use vigil_event::{Event, EventKind};

/// Asks for the cache line holding `p`.
#[inline(always)]
pub fn line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it reads nothing the program sees and cannot fault, whatever
    // the address.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Asks for every cache line of `len` bytes at `p`.
#[inline]
pub fn bytes(p: *const u8, len: usize) {
    let mut offset = 0;
    while offset < len {
        line(p.wrapping_add(offset));
        offset += 64;
    }
}

fn text(s: &str) {
    line(s.as_ptr());
}

fn opt(s: &Option<Box<str>>) {
    if let Some(s) = s {
        text(s);
    }
}

/// Asks for the first line of each allocation the event owns: what handing it on and dropping
/// it will touch. The common fields and the strings of the frequent kinds; a field left out
/// costs only its miss.
pub fn owned_parts(e: &Event) {
    // An `Arc`'s counts sit just before its data; dropping the event decrements them.
    line(e.raw.as_ptr().wrapping_sub(16));
    text(&e.id);
    opt(&e.user);
    opt(&e.user_agent);
    opt(&e.request_id);
    opt(&e.correlation_id);
    match &e.kind {
        EventKind::SignIn(s) => {
            for f in [
                &s.failure_reason,
                &s.additional_details,
                &s.app_name,
                &s.app_id,
                &s.resource_name,
                &s.client_app,
                &s.auth_protocol,
                &s.auth_requirement,
                &s.reported_country,
                &s.device_os,
                &s.browser,
                &s.request_type,
            ] {
                opt(f);
            }
        }
        EventKind::MailItemsAccessed(m) => {
            opt(&m.mailbox);
            opt(&m.app_id);
            opt(&m.client_info);
        }
        EventKind::FileActivity(f) => {
            opt(&f.file_name);
            opt(&f.object_url);
            opt(&f.site_url);
        }
        EventKind::MailSend(m) => {
            opt(&m.mailbox);
            opt(&m.subject);
            opt(&m.internet_message_id);
        }
        EventKind::MessageTrace(m) => {
            opt(&m.message_id);
            opt(&m.message_trace_id);
            opt(&m.subject);
            opt(&m.status);
            for a in [&m.sender, &m.recipient].into_iter().flatten() {
                text(&a.address);
            }
        }
        _ => {}
    }
}
