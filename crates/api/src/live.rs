//! The live hub: the server publishes twin updates, alarms and incidents; each
//! stream client receives them through a bounded broadcast buffer.
//!
//! A slow client does not hold memory: the broadcast ring buffer keeps the
//! last `capacity` updates, and a client that falls behind skips to the
//! oldest retained one and is told how many it missed (`lagged`).

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::operations::dto::{AlarmDto, IncidentDto};

/// One H3 cell's aggregate on the wire: `[cell_hex, mean, count, min, max, last]`.
pub type CellRow = (String, f64, u64, f64, f64, f64);

/// An update pushed to live clients. The stream endpoints serialise it per
/// client (after filtering) as documented in `docs/specs/http-api.md`.
#[derive(Debug, Clone)]
pub enum LiveUpdate {
    /// Changed cells of one metric at one resolution (current window).
    Cells {
        /// H3 resolution.
        res: u8,
        /// Metric.
        metric: String,
        /// Changed cells.
        cells: Vec<CellRow>,
    },
    /// An alarm was raised, acknowledged or cleared.
    Alarm(Box<AlarmDto>),
    /// An incident was opened or moved.
    Incident(Box<IncidentDto>),
    /// Headline counters, about once per second.
    Stats {
        /// Observations applied to the twin since start.
        observations: u64,
        /// Sensors online.
        sensors_online: u64,
        /// Sensors stale.
        sensors_stale: u64,
        /// Sensors offline.
        sensors_offline: u64,
        /// Data time of the twin, ms since the epoch.
        as_of: i64,
    },
}

impl LiveUpdate {
    /// The stream type name used in `types=` filters.
    pub fn kind(&self) -> &'static str {
        match self {
            LiveUpdate::Cells { .. } => "cells",
            LiveUpdate::Alarm(_) => "alarms",
            LiveUpdate::Incident(_) => "incidents",
            LiveUpdate::Stats { .. } => "stats",
        }
    }
}

/// Publishes live updates to every connected client.
#[derive(Debug, Clone)]
pub struct LiveHub {
    tx: broadcast::Sender<Arc<LiveUpdate>>,
}

impl LiveHub {
    /// A hub whose clients may fall `capacity` updates behind.
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(1));
        Self { tx }
    }

    /// Sends an update to every client (dropped when nobody listens).
    pub fn publish(&self, u: LiveUpdate) {
        let _ = self.tx.send(Arc::new(u));
    }

    /// A new client's receiver.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveUpdate>> {
        self.tx.subscribe()
    }

    /// Connected clients.
    pub fn clients(&self) -> usize {
        self.tx.receiver_count()
    }
}
