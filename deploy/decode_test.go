package deploy

import "encoding/base64"

// decode is a Secret value as the container sees it.
func decode(b64 string) string {
	v, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return b64
	}
	return string(v)
}
