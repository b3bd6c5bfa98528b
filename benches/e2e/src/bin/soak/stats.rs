//! What the soak counts, and its report.

use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Default)]
pub struct Stats {
    /// Per plan label: started, passed, failed.
    pub sessions: BTreeMap<String, (u64, u64, u64)>,
    /// The first failures, with the session's id and label.
    pub failures: Vec<String>,
    pub failed: u64,
    pub messages_sent: u64,
    pub messages_echoed: u64,
    pub bytes_sent: u64,
    pub bytes_echoed: u64,
    pub bytes_written: u64,
    pub compressed_sent: u64,
    pub fragmented_sent: u64,
    pub frames_sent: u64,
    pub pings_sent: u64,
    pub pongs_ok: u64,
    pub server_pings: u64,
    pub violations_sent: u64,
    pub resets: u64,
    /// Close codes received from the server (0: a close frame without a code).
    pub close_codes: BTreeMap<u16, u64>,
    /// Connections the server dropped by its deadline, per kind, and the shortest and longest
    /// it took (from the client's last byte or last write progress to the hang-up): which of
    /// the server's deadlines dropped them shows in the shortest.
    pub dropped: BTreeMap<&'static str, (u64, Duration, Duration)>,
    /// Connections held and reset by the driver because the server has no deadline for them.
    pub held: BTreeMap<&'static str, u64>,
    /// Violations sent dribbling whose close frame a reset destroyed before it was read.
    pub close_lost_to_reset: u64,
    /// The most bytes a slow reader got the server to take.
    pub slow_max_accepted: u64,
    pub most_open: usize,
}

impl Stats {
    pub fn started(&mut self, label: &str) {
        self.sessions.entry(label.to_string()).or_default().0 += 1;
    }

    pub fn finished(&mut self, label: &str, id: (usize, u64), result: &Result<(), String>) {
        let e = self.sessions.entry(label.to_string()).or_default();
        match result {
            Ok(()) => e.1 += 1,
            Err(why) => {
                e.2 += 1;
                self.failed += 1;
                if self.failures.len() < 40 {
                    self.failures
                        .push(format!("slot {} session {} ({label}): {why}", id.0, id.1));
                }
            }
        }
    }

    /// Sessions per top-level kind ("echo", "violation", ...), summed over labels.
    pub fn by_prefix(&self, depth: usize) -> BTreeMap<String, (u64, u64, u64)> {
        let mut m: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
        for (label, (s, p, f)) in &self.sessions {
            let key: Vec<&str> = label.split('/').take(depth).collect();
            let e = m.entry(key.join("/")).or_default();
            e.0 += s;
            e.1 += p;
            e.2 += f;
        }
        m
    }
}
