//! Route handlers, one module per area.

pub mod city;
pub mod system;
