package appeal

import (
	"net/http"

	"github.com/biaogan/biaogan/internal/apperr"
)

func (s *Service) apiImport(w http.ResponseWriter, r *http.Request) error {
	return apperr.Conflict("not_ready", "import not ready")
}
