package es

import "context"

type metadataKey struct{}

// WithMetadata returns a context carrying md. Repositories stamp it on every
// event they append under that context.
func WithMetadata(ctx context.Context, md Metadata) context.Context {
	return context.WithValue(ctx, metadataKey{}, md)
}

// MetadataFrom returns the metadata carried by ctx, or the zero Metadata.
func MetadataFrom(ctx context.Context) Metadata {
	md, _ := ctx.Value(metadataKey{}).(Metadata)
	return md
}

// CausedBy returns metadata for an event caused by e: same correlation id and
// trace, e's id as the cause, actor as given.
func CausedBy(e Event, actor string) Metadata {
	return Metadata{
		CorrelationID: e.Metadata.CorrelationID,
		CausationID:   e.ID.String(),
		TraceParent:   e.Metadata.TraceParent,
		Actor:         actor,
		SchemaVersion: 1,
	}
}
