package es

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"sync"
)

// Registry maps Go event types to their stable type names and back. Each
// service registers its events in one place, at start-up.
type Registry struct {
	mu     sync.RWMutex
	byName map[string]func(json.RawMessage) (any, error)
	byType map[reflect.Type]string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		byName: make(map[string]func(json.RawMessage) (any, error)),
		byType: make(map[reflect.Type]string),
	}
}

// Register maps T to name. T must be a struct (not a pointer); values decode
// as T. Registering a name or a type twice panics: it is a programming error
// caught at start-up.
func Register[T any](r *Registry, name string) {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("es: register %s: %s is not a struct type", name, t))
	}
	if name == "" || len(name) > MaxTypeLength {
		panic(fmt.Sprintf("es: register %s: bad type name %q", t, name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.byName[name]; dup {
		panic(fmt.Sprintf("es: event type name %q registered twice", name))
	}
	if prev, dup := r.byType[t]; dup {
		panic(fmt.Sprintf("es: %s registered twice (as %q and %q)", t, prev, name))
	}
	r.byType[t] = name
	r.byName[name] = func(data json.RawMessage) (any, error) {
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("decode %s: %w", name, err)
		}
		return v, nil
	}
}

// Name returns the registered type name of v's type.
func (r *Registry) Name(v any) (string, error) {
	r.mu.RLock()
	name, ok := r.byType[reflect.TypeOf(v)]
	r.mu.RUnlock()
	if !ok {
		return "", fmt.Errorf("%w: Go type %T is not registered", ErrUnknownEventType, v)
	}
	return name, nil
}

// Encode turns a registered event value into EventData with the given id
// (a zero id is filled in on append) and metadata.
func (r *Registry) Encode(id UUID, v any, md Metadata) (EventData, error) {
	name, err := r.Name(v)
	if err != nil {
		return EventData{}, err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return EventData{}, fmt.Errorf("encode %s: %w", name, err)
	}
	return EventData{ID: id, Type: name, Data: data, Metadata: md}, nil
}

// Decode turns a recorded event's body into the registered Go value.
func (r *Registry) Decode(typeName string, data json.RawMessage) (any, error) {
	r.mu.RLock()
	dec, ok := r.byName[typeName]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEventType, typeName)
	}
	return dec(data)
}

// Names returns every registered type name, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
