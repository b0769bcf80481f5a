//! The engine's errors: each names the offending value.

/// What can go wrong when reading inputs or applying a scenario.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// An XML input is not well-formed.
    #[error("malformed XML at byte {position}: {message}")]
    Xml {
        /// Byte offset in the input.
        position: u64,
        /// The parser's message.
        message: String,
    },
    /// A JSON input (CityFlow file, scenario file) does not have the expected shape.
    #[error("malformed JSON in {what}: {message}")]
    Json {
        /// Which input.
        what: &'static str,
        /// The parser's message.
        message: String,
    },
    /// A required attribute is missing on an element.
    #[error("element <{element}> lacks attribute {attribute}")]
    MissingAttribute {
        /// The element name.
        element: String,
        /// The attribute name.
        attribute: &'static str,
    },
    /// A numeric attribute does not parse or is out of range.
    #[error("invalid {field} = {value:?}")]
    InvalidNumber {
        /// What the number is.
        field: &'static str,
        /// The text found.
        value: String,
    },
    /// A link id that the network does not have.
    #[error("unknown link {0:?}")]
    UnknownLink(String),
    /// A node id that the network does not have.
    #[error("unknown node {0:?}")]
    UnknownNode(String),
    /// The same id was given twice.
    #[error("duplicate id {0:?}")]
    DuplicateId(String),
    /// A route whose consecutive links are not connected by a movement.
    #[error("vehicle {vehicle:?}: no movement from {from:?} to {to:?}")]
    Disconnected {
        /// The vehicle id.
        vehicle: String,
        /// Upstream link.
        from: String,
        /// Downstream link.
        to: String,
    },
    /// A route with no link.
    #[error("vehicle {0:?} has an empty route")]
    EmptyRoute(String),
    /// A signal plan that cannot run (no phase, zero cycle, wrong state length).
    #[error("signal at node {node:?}: {reason}")]
    BadSignal {
        /// The node id.
        node: String,
        /// Why.
        reason: String,
    },
    /// A scenario edit that cannot apply.
    #[error("scenario edit {edit}: {reason}")]
    BadEdit {
        /// Which edit (`closures[2]`).
        edit: String,
        /// Why.
        reason: String,
    },
    /// A calibration parameter out of its valid range.
    #[error("parameter {name} = {value} is out of range")]
    BadParam {
        /// The parameter name.
        name: &'static str,
        /// The value given.
        value: f64,
    },
}
