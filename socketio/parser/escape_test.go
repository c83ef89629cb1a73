package parser

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Strings are written as JSON.stringify writes them: no HTML or JS
// escaping of <, >, & or U+2028/U+2029.
func TestMarshal_NoHTMLEscaping(t *testing.T) {
	data, _, err := MarshalEvent("msg", []any{"<b>&amp;</b>\u2028"})
	require.NoError(t, err)
	assert.Equal(t, "[\"msg\",\"<b>&amp;</b>\u2028\"]", string(data))
}
