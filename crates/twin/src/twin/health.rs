//! Sensor status: births, deaths and staleness.

use std::sync::Arc;

use domain::{SensorId, StatusChange, Timestamp};

use super::{ApplyStats, Twin};
use crate::sensor::SensorStatus;

impl Twin {
    /// Applies a birth or death of a gateway (every sensor it owns) or of
    /// one device. A message older than a sensor's last status change is
    /// ignored for that sensor, so reordered births and deaths settle on the
    /// newest.
    pub(super) fn status(&mut self, change: &StatusChange) -> ApplyStats {
        let mut stats = ApplyStats::default();
        self.advance(change.ts);
        let Some(gw) = self.state.gateways.get_mut(&change.gateway) else {
            stats.unknown_status += 1;
            return stats;
        };
        let targets: Vec<SensorId> = match &change.sensor {
            None => {
                if gw.since.is_none_or(|s| change.ts >= s) {
                    gw.online = Some(change.online);
                    gw.since = Some(change.ts);
                }
                gw.sensors.iter().cloned().collect()
            }
            Some(s) if gw.sensors.contains(s) => vec![s.clone()],
            Some(_) => {
                stats.unknown_status += 1;
                return stats;
            }
        };
        let to = if change.online {
            SensorStatus::Online
        } else {
            SensorStatus::Offline
        };
        for id in targets {
            let Some(&i) = self.sensor_lookup.get(&id) else {
                continue;
            };
            let Some(slot) = self
                .state
                .sensor_slots
                .get_mut(i as usize)
                .and_then(Option::as_mut)
            else {
                continue;
            };
            if slot.status == to || slot.since.is_some_and(|s| change.ts < s) {
                continue;
            }
            let s = Arc::make_mut(slot);
            let from = s.status;
            s.status = to;
            s.since = Some(change.ts);
            self.set_status(from, to);
            stats.status_changes += 1;
        }
        self.state.totals.status_changes += stats.status_changes;
        stats
    }

    /// Marks online sensors stale when neither data nor a birth has been
    /// seen within `stale_after_ms` of `now`. O(sensors).
    pub(super) fn tick(&mut self, now: Timestamp) -> ApplyStats {
        self.state.clocked = true;
        if now > self.state.as_of {
            self.state.as_of = now;
        }
        let now = self.state.as_of;
        let limit = self.state.config.stale_after_ms;
        let due: Vec<usize> = self
            .state
            .sensor_slots
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.as_ref().is_some_and(|s| {
                    s.status == SensorStatus::Online && {
                        let active = s.last_seen.max(s.since).unwrap_or(now);
                        now.0.saturating_sub(active.0) > limit
                    }
                })
            })
            .map(|(i, _)| i)
            .collect();
        let mut stats = ApplyStats::default();
        for i in due {
            if let Some(slot) = self.state.sensor_slots.get_mut(i).and_then(Option::as_mut) {
                let s = Arc::make_mut(slot);
                s.status = SensorStatus::Stale;
                s.since = Some(now);
                self.set_status(SensorStatus::Online, SensorStatus::Stale);
                stats.status_changes += 1;
            }
        }
        stats
    }
}
