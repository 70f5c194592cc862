//! Load scenarios on goose with thresholds that gate CI.
