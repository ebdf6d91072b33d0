//! What the tool reads from and asks of the operating system (Linux): the server's CPU
//! time and resident memory from `/proc`, and room for many open sockets.

use std::io;
use std::time::Duration;

/// One reading of a process's cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// User and system CPU time used so far.
    pub cpu: Duration,
    /// Resident memory now, in KiB.
    pub rss_kib: u64,
}

/// Reads a process's CPU time and memory.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pid: u32,
    ticks_per_second: u64,
}

impl Probe {
    /// A probe of process `pid`, which must exist.
    pub fn new(pid: u32) -> io::Result<Probe> {
        // SAFETY: sysconf only reads a configuration value.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let probe = Probe {
            pid,
            ticks_per_second: u64::try_from(ticks).ok().filter(|t| *t > 0).unwrap_or(100),
        };
        probe.sample()?;
        Ok(probe)
    }

    /// Reads the process's CPU time and resident memory now.
    pub fn sample(&self) -> io::Result<Sample> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid))?;
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let unreadable = |what| io::Error::new(io::ErrorKind::InvalidData, what);
        let ticks = cpu_ticks(&stat).ok_or_else(|| unreadable("unreadable /proc/PID/stat"))?;
        let rss_kib = rss_kib(&status).ok_or_else(|| unreadable("no VmRSS in /proc/PID/status"))?;
        Ok(Sample {
            cpu: Duration::from_secs_f64(ticks as f64 / self.ticks_per_second as f64),
            rss_kib,
        })
    }
}

/// User plus system time, in clock ticks, from the text of `/proc/PID/stat`.
fn cpu_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may hold spaces; utime and stime
    // are fields 14 and 15, the 12th and 13th after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// `VmRSS` in KiB, from the text of `/proc/PID/status`.
fn rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Raises this process's limit on open files to its hard limit, so that it can hold as
/// many connections as allowed; returns the limit now in force.
pub fn raise_open_files_limit() -> io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err(io::Error::last_os_error());
        }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(limit.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_and_status_are_read() {
        let stat = "4242 (conclave (x) y) S 1 4242 4242 0 -1 4194560 9153 0 0 0 \
                    250 75 0 0 20 0 9 0 1234 567890 1000 18446744073709551615";
        assert_eq!(cpu_ticks(stat), Some(325));
        assert_eq!(cpu_ticks("garbage"), None);
        let status = "Name:\tconclave\nVmPeak:\t  90000 kB\nVmRSS:\t   12345 kB\nThreads:\t9\n";
        assert_eq!(rss_kib(status), Some(12_345));
        assert_eq!(rss_kib("Name:\tx\n"), None);
    }

    #[test]
    fn this_process_can_be_probed() {
        let probe = Probe::new(std::process::id()).unwrap();
        let sample = probe.sample().unwrap();
        assert!(sample.rss_kib > 0);
        assert!(Probe::new(u32::MAX).is_err());
        assert!(raise_open_files_limit().unwrap() > 0);
    }
}
