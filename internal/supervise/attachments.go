package supervise

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/web"
)

// Attachments (附件): evidence files of a task or of one of its progress
// reports, kept under the data directory with a SHA-256 checksum.
//
// The content decides the type, never the name or the browser's claim:
// http.DetectContentType for PDF, JPEG and PNG, and for a ZIP container the
// structure of an Office Open XML file ([Content_Types].xml plus word/ for
// docx or xl/ for xlsx). A file whose content is one of the five types is
// accepted as that type even when its name says otherwise, and its name is
// given the matching extension ("scan.pdf" holding PNG bytes is stored as
// "scan.png", image/png), so a download opens in the right program.
// Anything else (an .exe renamed .pdf, a plain ZIP, an old .doc) is
// refused with 422 naming the field, and nothing is saved.

// MaxAttachmentBytes bounds each file (20 MB).
const MaxAttachmentBytes = 20 << 20

// MaxAttachmentsPerRequest bounds the files of one upload.
const MaxAttachmentsPerRequest = 10

// maxZipEntries bounds the directory of a docx/xlsx that is inspected.
const maxZipEntries = 10000

// maxFieldBytes bounds a text field of a multipart form.
const maxFieldBytes = 64 << 10

// Attachment types by extension.
var attachmentTypes = map[string]string{
	"pdf":  "application/pdf",
	"jpg":  "image/jpeg",
	"png":  "image/png",
	"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

// EventAttach is the timeline entry of stored files.
const EventAttach = "attach"

// Attachment is a stored file.
type Attachment struct {
	ID             int64     `json:"id"`
	TaskID         int64     `json:"task_id"`
	ReportID       *int64    `json:"report_id"`
	Name           string    `json:"name"`
	ContentType    string    `json:"content_type"`
	Size           int64     `json:"size"`
	SHA256         string    `json:"sha256"`
	UploadedBy     *int64    `json:"uploaded_by"`
	UploadedByName string    `json:"uploaded_by_name"`
	UploadedAt     time.Time `json:"uploaded_at"`
	// URL downloads the file (GET, tasks.read).
	URL  string `json:"url"`
	path string
}

// SetFilesDir names the directory attachments are kept in (the data
// directory's "files"); call it while wiring, before serving.
func (s *Service) SetFilesDir(dir string) { s.ext().filesDir = dir }

// FilesDir is the attachments directory ("" when not set).
func (s *Service) FilesDir() string { return s.ext().filesDir }

func errAttachmentNotFound(id int64) *apperr.Error {
	return apperr.NotFound("attachment_not_found", fmt.Sprintf("附件 %d 不存在 / attachment %d not found", id, id))
}

var errNoFilesDir = errors.New("supervise: attachments directory not configured (SetFilesDir)")

// SniffAttachment decides the type of a file from its content: ext is one
// of pdf, jpg, png, docx, xlsx. ok is false for anything else.
func SniffAttachment(r io.ReaderAt, size int64) (ext string, ok bool) {
	head := make([]byte, 512)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false
	}
	head = head[:n]
	ct := http.DetectContentType(head)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	switch ct {
	case "application/pdf":
		return "pdf", true
	case "image/jpeg":
		return "jpg", true
	case "image/png":
		return "png", true
	case "application/zip":
		return sniffOOXML(r, size)
	}
	return "", false
}

// sniffOOXML tells a Word or Excel file from any other ZIP by its parts,
// reading only the central directory (nothing is decompressed).
func sniffOOXML(r io.ReaderAt, size int64) (string, bool) {
	zr, err := zip.NewReader(r, size)
	if err != nil || len(zr.File) > maxZipEntries {
		return "", false
	}
	var types, word, xl bool
	for _, f := range zr.File {
		switch name := f.Name; {
		case name == "[Content_Types].xml":
			types = true
		case strings.HasPrefix(name, "word/"):
			word = true
		case strings.HasPrefix(name, "xl/"):
			xl = true
		}
	}
	switch {
	case types && word && !xl:
		return "docx", true
	case types && xl && !word:
		return "xlsx", true
	}
	return "", false
}

// Upload is a file received and checked, waiting in the files directory to
// be stored with a task or a report.
type Upload struct {
	Name        string
	Ext         string
	ContentType string
	Size        int64
	SHA256      string
	tmp         string // the received file
	placed      string // the file's final path once placed
	done        bool   // stored for good: Discard leaves it
}

// Discard removes the received file (and the placed one, if the store did
// not commit).
func (u *Upload) Discard() {
	if u == nil || u.done {
		return
	}
	if u.tmp != "" {
		os.Remove(u.tmp)
	}
	if u.placed != "" {
		os.Remove(u.placed)
	}
}

func discardAll(ups []*Upload) {
	for _, u := range ups {
		u.Discard()
	}
}

// ReceiveUpload reads one file from r into the files directory, at most
// MaxAttachmentBytes, hashes it and decides its type from its content.
// field names the form field in errors. Nothing is kept on error.
func (s *Service) ReceiveUpload(field, name string, r io.Reader) (*Upload, error) {
	dir := s.FilesDir()
	if dir == "" {
		return nil, errNoFilesDir
	}
	tmpDir := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmpDir, 0o750); err != nil {
		return nil, fmt.Errorf("supervise: files directory: %w", err)
	}
	f, err := os.CreateTemp(tmpDir, "upload-*")
	if err != nil {
		return nil, fmt.Errorf("supervise: receive file: %w", err)
	}
	u := &Upload{tmp: f.Name()}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			u.Discard()
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, MaxAttachmentBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, apperr.BadRequest("upload_failed", fmt.Sprintf("文件 %q 上传中断 / upload of %q was interrupted", name, name))
	}
	display := cleanFileName(name)
	switch {
	case n > MaxAttachmentBytes:
		return nil, &apperr.Error{Status: http.StatusUnprocessableEntity, Code: "attachment_too_large", Field: field,
			Message: fmt.Sprintf("文件“%s”超过 %d MB / file %q is larger than %d MB", display, MaxAttachmentBytes>>20, display, MaxAttachmentBytes>>20)}
	case n == 0:
		return nil, &apperr.Error{Status: http.StatusUnprocessableEntity, Code: "attachment_empty", Field: field,
			Message: fmt.Sprintf("文件“%s”是空的 / file %q is empty", display, display)}
	}
	ext, known := SniffAttachment(f, n)
	if !known {
		return nil, &apperr.Error{Status: http.StatusUnprocessableEntity, Code: "attachment_type", Field: field,
			Message: fmt.Sprintf("文件“%s”的内容不是允许的类型（PDF、JPG、PNG、DOCX、XLSX）/ the content of %q is not an allowed type (PDF, JPG, PNG, DOCX, XLSX)", display, display)}
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("supervise: receive file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("supervise: receive file: %w", err)
	}
	u.Name, u.Ext, u.ContentType, u.Size, u.SHA256 = withExt(display, ext), ext, attachmentTypes[ext], n, hex.EncodeToString(h.Sum(nil))
	ok = true
	return u, nil
}

// cleanFileName keeps the base name a person gave, without directories or
// control characters, at most 120 characters.
func cleanFileName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == "/" {
		name = "file"
	}
	if r := []rune(name); len(r) > 120 {
		ext := path.Ext(name)
		if len([]rune(ext)) > 10 {
			ext = ""
		}
		name = string(r[:120-len([]rune(ext))]) + ext
	}
	return name
}

// withExt gives name the extension of its content type.
func withExt(name, ext string) string {
	cur := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
	if cur == ext || (ext == "jpg" && cur == "jpeg") {
		return name
	}
	base := strings.TrimSuffix(name, path.Ext(name))
	if _, known := attachmentTypes[cur]; !known && cur != "jpeg" {
		base = name // "报告" or "v1.2 final": keep all of it
	}
	if base == "" {
		base = "file"
	}
	return base + "." + ext
}

// place moves a received file to its final place under tasks/<id>/ and
// returns the path relative to the files directory.
func (s *Service) place(u *Upload, taskID int64) (string, error) {
	dir := s.FilesDir()
	if dir == "" {
		return "", errNoFilesDir
	}
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", err
	}
	rel := path.Join("tasks", strconv.FormatInt(taskID, 10), hex.EncodeToString(rnd[:])+"."+u.Ext)
	full := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(full), 0o750); err != nil {
		return "", fmt.Errorf("supervise: store file: %w", err)
	}
	if err := os.Rename(u.tmp, full); err != nil {
		return "", fmt.Errorf("supervise: store file: %w", err)
	}
	u.tmp, u.placed = "", full
	if d, err := os.Open(filepath.Dir(full)); err == nil { // the rename survives a crash
		d.Sync()
		d.Close()
	}
	return rel, nil
}

// storeUploads places the files and records them (inside tx), with one
// timeline entry; it returns a summary for the audit record.
func (s *Service) storeUploads(ctx context.Context, tx *db.Tx, a Actor, t *Task, reportID *int64, ups []*Upload) (string, error) {
	if len(ups) == 0 {
		return "", nil
	}
	now := s.stamp()
	var names, details []string
	for _, u := range ups {
		rel, err := s.place(u, t.ID)
		if err != nil {
			return "", err
		}
		id, err := db.InsertID(ctx, tx, `INSERT INTO task_attachments (task_id, report_id, name, content_type, size, sha256, path, uploaded_by, uploaded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, nullPtr(reportID), u.Name, u.ContentType, u.Size, u.SHA256, rel, nullPtr(a.id()), now)
		if err != nil {
			return "", fmt.Errorf("supervise: record attachment: %w", err)
		}
		names = append(names, u.Name)
		details = append(details, fmt.Sprintf("attachment %d %s (%s, %d bytes, sha256 %s)", id, u.Name, u.ContentType, u.Size, u.SHA256))
	}
	detail := strings.Join(details, "; ")
	if reportID != nil {
		detail = fmt.Sprintf("report %d: %s", *reportID, detail)
	}
	if err := s.event(ctx, tx, a, t.ID, EventAttach, "", "", strings.Join(names, "、"), detail); err != nil {
		return "", err
	}
	return detail, nil
}

// AddAttachments stores files with a task (evidence), or with one of its
// reports when reportID is set; the lead unit or a supervisor may, while the
// task is open. On error nothing is kept.
func (s *Service) AddAttachments(ctx context.Context, a Actor, taskID, reportID int64, ups []*Upload) ([]Attachment, error) {
	if len(ups) == 0 {
		return nil, invalid("file", "请选择要上传的文件", "choose a file to upload")
	}
	if len(ups) > MaxAttachmentsPerRequest {
		discardAll(ups)
		return nil, invalid("file", fmt.Sprintf("一次最多上传 %d 个文件", MaxAttachmentsPerRequest), fmt.Sprintf("at most %d files at once", MaxAttachmentsPerRequest))
	}
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		t, err := loadTask(ctx, tx, taskID, true)
		if err != nil {
			return err
		}
		if !a.supervises() && !a.actsFor(t.LeadUnitID) {
			return errNotYourUnit
		}
		if !t.State.Open() {
			return conflict("task_closed", fmt.Sprintf("任务已%s", t.State.Text().ZH), fmt.Sprintf("the task is %s", t.State), map[string]any{"state": t.State})
		}
		var rid *int64
		if reportID != 0 {
			var owner int64
			err := tx.QueryRowContext(ctx, `SELECT task_id FROM task_reports WHERE id = ?`, reportID).Scan(&owner)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != t.ID) {
				return invalid("report_id", fmt.Sprintf("任务 %d 没有进展报告 %d", t.ID, reportID), fmt.Sprintf("task %d has no report %d", t.ID, reportID))
			}
			if err != nil {
				return fmt.Errorf("supervise: check report: %w", err)
			}
			rid = &reportID
		}
		summary, err := s.storeUploads(ctx, tx, a, t, rid, ups)
		if err != nil {
			return err
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("task.attach", t.ID, summary))
	})
	if err != nil {
		discardAll(ups)
		return nil, err
	}
	for _, u := range ups {
		u.done = true
	}
	all, err := s.Attachments(ctx, taskID)
	if err != nil {
		return nil, err
	}
	return all[len(all)-len(ups):], nil
}

// ReportWithFiles files a progress report with its attachments in one
// transaction: the report and its files are stored together or not at all.
func (s *Service) ReportWithFiles(ctx context.Context, a Actor, taskID int64, in NewReport, ups []*Upload) (*Report, error) {
	if len(ups) > MaxAttachmentsPerRequest {
		discardAll(ups)
		return nil, invalid("files", fmt.Sprintf("一次最多上传 %d 个文件", MaxAttachmentsPerRequest), fmt.Sprintf("at most %d files at once", MaxAttachmentsPerRequest))
	}
	rep, err := s.report(ctx, a, taskID, in, func(ctx context.Context, tx *db.Tx, t *Task, rid int64) (string, error) {
		return s.storeUploads(ctx, tx, a, t, &rid, ups)
	})
	if err != nil {
		discardAll(ups)
		return nil, err
	}
	for _, u := range ups {
		u.done = true
	}
	return rep, nil
}

const attachmentCols = `a.id, a.task_id, a.report_id, a.name, a.content_type, a.size, a.sha256, a.path, a.uploaded_by,
	COALESCE(CASE WHEN u.display_name <> '' THEN u.display_name ELSE u.username END, ''), a.uploaded_at`

func scanAttachment(row scanner) (*Attachment, error) {
	var at Attachment
	var rep, by sql.NullInt64
	if err := row.Scan(&at.ID, &at.TaskID, &rep, &at.Name, &at.ContentType, &at.Size, &at.SHA256, &at.path, &by, &at.UploadedByName, &at.UploadedAt); err != nil {
		return nil, err
	}
	at.ReportID, at.UploadedBy = ptrInt64(rep), ptrInt64(by)
	at.UploadedAt = at.UploadedAt.UTC()
	at.URL = "/api/v1/attachments/" + strconv.FormatInt(at.ID, 10)
	return &at, nil
}

// Attachments lists a task's files, oldest first.
func (s *Service) Attachments(ctx context.Context, taskID int64) ([]Attachment, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT `+attachmentCols+` FROM task_attachments a LEFT JOIN users u ON u.id = a.uploaded_by
		WHERE a.task_id = ? ORDER BY a.id`, taskID)
	if err != nil {
		return nil, fmt.Errorf("supervise: list attachments: %w", err)
	}
	defer rows.Close()
	out := []Attachment{}
	for rows.Next() {
		at, err := scanAttachment(rows)
		if err != nil {
			return nil, fmt.Errorf("supervise: scan attachment: %w", err)
		}
		out = append(out, *at)
	}
	return out, rows.Err()
}

// Attachment returns one file's record.
func (s *Service) Attachment(ctx context.Context, id int64) (*Attachment, error) {
	at, err := scanAttachment(s.DB.QueryRowContext(ctx, `SELECT `+attachmentCols+` FROM task_attachments a LEFT JOIN users u ON u.id = a.uploaded_by
		WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errAttachmentNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("supervise: load attachment %d: %w", id, err)
	}
	return at, nil
}

// OpenAttachment opens a stored file after checking its size and checksum,
// positioned at the start. The caller closes it.
func (s *Service) OpenAttachment(ctx context.Context, id int64) (*Attachment, *os.File, error) {
	at, err := s.Attachment(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	dir := s.FilesDir()
	if dir == "" {
		return nil, nil, errNoFilesDir
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("supervise: open files directory: %w", err)
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(at.path))
	if err != nil {
		return nil, nil, fmt.Errorf("supervise: open attachment %d: %w", id, err)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("supervise: read attachment %d: %w", id, err)
	}
	if n != at.Size || hex.EncodeToString(h.Sum(nil)) != at.SHA256 {
		f.Close()
		return nil, nil, fmt.Errorf("supervise: attachment %d (%s) fails its checksum: the stored file was changed", id, at.path)
	}
	return at, f, nil
}

// readUploadForm reads a multipart form: text fields (each at most 64 KB)
// and the files of fileField, received and checked one by one while the
// body streams. On error every received file is discarded. A body that is
// not multipart yields just its fields.
func (s *Service) readUploadForm(w http.ResponseWriter, r *http.Request, fileField string) (url.Values, []*Upload, error) {
	limit := int64(MaxAttachmentsPerRequest)*(MaxAttachmentBytes+1) + 1<<20
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		if err := r.ParseForm(); err != nil {
			return nil, nil, apperr.BadRequest("bad_form", "表单无法解析 / the form could not be read")
		}
		return r.PostForm, nil, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, apperr.BadRequest("bad_form", "表单无法解析 / the form could not be read")
	}
	vals := url.Values{}
	var ups []*Upload
	fail := func(err error) (url.Values, []*Upload, error) {
		discardAll(ups)
		// Read what is left (bounded above), so the client gets the
		// answer instead of a reset connection.
		io.Copy(io.Discard, r.Body)
		return vals, nil, err
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return fail(err)
			}
			return fail(apperr.BadRequest("bad_form", "表单无法解析 / the form could not be read"))
		}
		name := part.FormName()
		if name == fileField {
			u, err := s.receivePart(fileField, part)
			part.Close()
			if err != nil {
				return fail(err)
			}
			if u != nil {
				if len(ups) == MaxAttachmentsPerRequest {
					u.Discard()
					return fail(invalid(fileField, fmt.Sprintf("一次最多上传 %d 个文件", MaxAttachmentsPerRequest), fmt.Sprintf("at most %d files at once", MaxAttachmentsPerRequest)))
				}
				ups = append(ups, u)
			}
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
		part.Close()
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return fail(err)
			}
			return fail(apperr.BadRequest("bad_form", "表单无法解析 / the form could not be read"))
		}
		if len(b) > maxFieldBytes {
			return fail(invalid(name, "内容过长", "too long"))
		}
		vals.Add(name, string(b))
	}
	return vals, ups, nil
}

// receivePart receives one file part; an empty file input (no name, no
// bytes) is no file.
func (s *Service) receivePart(field string, part *multipart.Part) (*Upload, error) {
	if part.FileName() == "" {
		var one [1]byte
		n, _ := io.ReadFull(part, one[:])
		if n == 0 {
			return nil, nil
		}
		return s.ReceiveUpload(field, "file", io.MultiReader(bytes.NewReader(one[:n]), part))
	}
	return s.ReceiveUpload(field, part.FileName(), part)
}

// sendAttachment writes a stored file as a download.
func (s *Service) sendAttachment(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	at, f, err := s.OpenAttachment(r.Context(), id)
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", at.ContentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": at.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.FormatInt(at.Size, 10))
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("X-Checksum-SHA256", at.SHA256)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err = io.Copy(w, f)
	return err
}

// API.

// POST /api/v1/tasks/{id}/attachments (multipart: file…, report_id)
func (s *Service) apiAddAttachments(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		return apperr.BadRequest("bad_content_type", "请求体须为 multipart/form-data，文件放在 file 字段 / body must be multipart/form-data with the files in field file")
	}
	vals, ups, err := s.readUploadForm(w, r, "file")
	if err != nil {
		return err
	}
	var rid int64
	if v := strings.TrimSpace(vals.Get("report_id")); v != "" {
		if rid, err = strconv.ParseInt(v, 10, 64); err != nil || rid <= 0 {
			discardAll(ups)
			return invalid("report_id", "report_id 须为正整数", "report_id must be a positive integer")
		}
	}
	list, err := s.AddAttachments(r.Context(), actor(r), id, rid, ups)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, web.List[Attachment]{Items: list, Total: len(list)})
}

// GET /api/v1/tasks/{id}/attachments
func (s *Service) apiListAttachments(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := loadTask(r.Context(), s.DB, id, false); err != nil {
		return err
	}
	list, err := s.Attachments(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteList(w, list, len(list))
}
