//! Load generator and delivery checker for Conclave; its tool is built in its own issue.
