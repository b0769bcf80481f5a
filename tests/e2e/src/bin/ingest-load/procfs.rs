//! Process and machine accounting from Linux `/proc`: peak resident memory
//! (`VmHWM`), CPU time of a process (all its threads) and of the whole
//! machine, so a run on a shared machine can say who used the cores.

use std::path::Path;

/// Clock ticks per second of `/proc` CPU times (`getconf CLK_TCK`, 100 on Linux).
pub fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// A `kB` field of `/proc/<pid>/status` (`VmHWM`, `VmRSS`), in KiB.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_kib(&text, field)
}

fn parse_status_kib(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// User + system CPU ticks of a process (all threads), `None` when it is gone.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text).map(|s| s.utime + s.stime)
}

/// The fields of `/proc/<pid>/stat` the run uses.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stat {
    comm: String,
    ppid: u32,
    utime: u64,
    stime: u64,
}

fn parse_stat(text: &str) -> Option<Stat> {
    // "pid (comm) state ppid ..." where comm may contain spaces and ')'
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_owned();
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3 (state); utime and stime are fields 14 and 15
    Some(Stat {
        comm,
        ppid: rest.get(1)?.parse().ok()?,
        utime: rest.get(11)?.parse().ok()?,
        stime: rest.get(12)?.parse().ok()?,
    })
}

fn processes() -> Vec<(u32, Stat)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let text =
                std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat"))
                    .ok()?;
            Some((pid, parse_stat(&text)?))
        })
        .collect()
}

/// Children of `ppid` whose command name is `comm`.
pub fn children_named(ppid: u32, comm: &str) -> Vec<u32> {
    processes()
        .into_iter()
        .filter(|(_, s)| s.ppid == ppid && s.comm == comm)
        .map(|(p, _)| p)
        .collect()
}

/// Summed CPU ticks of every process whose command name starts with
/// `prefix` (e.g. all PostgreSQL backends of the machine).
pub fn cpu_ticks_named(prefix: &str) -> u64 {
    processes()
        .into_iter()
        .filter(|(_, s)| s.comm.starts_with(prefix))
        .map(|(_, s)| s.utime + s.stime)
        .sum()
}

/// Machine CPU ticks from `/proc/stat`: (busy, total), summed over cores.
pub fn machine_ticks() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    parse_machine(&text)
}

fn parse_machine(text: &str) -> Option<(u64, u64)> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user)
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_survive_spaces_and_parentheses_in_the_name() {
        let line =
            "4242 (tokio (rt) w) S 17 4242 17 0 -1 4194560 100 0 0 0 311 57 0 0 20 0 9 0 1 2 3";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.comm, "tokio (rt) w");
        assert_eq!(s.ppid, 17);
        assert_eq!((s.utime, s.stime), (311, 57));
    }

    #[test]
    fn status_fields_are_read_in_kib() {
        let text =
            "Name:\tcitybrain\nVmPeak:\t  900000 kB\nVmHWM:\t   81234 kB\nVmRSS:\t   80000 kB\n";
        assert_eq!(parse_status_kib(text, "VmHWM"), Some(81_234));
        assert_eq!(parse_status_kib(text, "VmRSS"), Some(80_000));
        assert_eq!(parse_status_kib(text, "VmSwap"), None);
    }

    #[test]
    fn machine_busy_excludes_idle_and_iowait() {
        let text = "cpu  100 5 50 800 40 3 2 0 0 0\ncpu0 50 2 25 400 20 1 1 0 0 0\n";
        assert_eq!(parse_machine(text), Some((160, 1000)));
    }

    #[test]
    fn this_process_is_visible() {
        let me = std::process::id();
        assert!(cpu_ticks(me).is_some());
        assert!(status_kib(me, "VmHWM").is_some_and(|k| k > 0));
    }
}
