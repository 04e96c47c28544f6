"""The report server: standard reports over the aggregates (our GCXI), served by `infomart serve`."""
