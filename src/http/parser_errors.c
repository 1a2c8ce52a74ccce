/* parser_errors.c: the one table mapping each parser error to its HTTP
 * status and a short reason. */
#include "parser.h"

static const struct {
	uint16_t status;
	const char *reason;
} errors[RG__E_COUNT] = {
    [RG__E_NONE] = {200, "no error"},
    [RG__E_METHOD] = {400, "invalid method"},
    [RG__E_METHOD_LONG] = {501, "method not implemented (too long)"},
    [RG__E_TARGET] = {400, "invalid request-target"},
    [RG__E_VERSION] = {400, "malformed HTTP version"},
    [RG__E_VERSION_UNSUPPORTED] = {505, "HTTP version not supported"},
    [RG__E_LINE_ENDING] = {400, "bare CR or LF: lines must end in CRLF"},
    [RG__E_REQUEST_LINE_LONG] = {414, "request line too long"},
    [RG__E_HEADER_NAME] = {400, "invalid header field name"},
    [RG__E_HEADER_VALUE] = {400, "invalid byte in header field value"},
    [RG__E_OBS_FOLD] = {400, "obsolete line folding"},
    [RG__E_HEADERS_TOO_LARGE] = {431, "header section too large"},
    [RG__E_TOO_MANY_HEADERS] = {431, "too many header fields"},
    [RG__E_HOST_MISSING] = {400, "missing Host header"},
    [RG__E_HOST_DUPLICATE] = {400, "several Host headers"},
    [RG__E_HOST_INVALID] = {400, "invalid Host header"},
    [RG__E_HOST_EMPTY] = {400, "empty Host header"},
    [RG__E_CONTENT_LENGTH] = {400, "invalid Content-Length"},
    [RG__E_CL_AND_TE] = {400, "both Content-Length and Transfer-Encoding"},
    [RG__E_TE_NOT_CHUNKED] = {400, "Transfer-Encoding must end in one chunked"},
    [RG__E_TE_UNKNOWN] = {501, "transfer coding not implemented"},
    [RG__E_TE_HTTP10] = {400, "Transfer-Encoding in an HTTP/1.0 request"},
    [RG__E_BODY_TOO_LARGE] = {413, "request body too large"},
    [RG__E_CHUNK_SIZE] = {400, "invalid chunk size"},
    [RG__E_CHUNK_EXT] = {400, "invalid chunk extension"},
    [RG__E_CHUNK_DATA_END] = {400, "chunk data not followed by CRLF"},
    [RG__E_TRAILER] = {400, "invalid trailer field"},
    [RG__E_TRAILER_TOO_LARGE] = {431, "trailer section too large"},
    [RG__E_TRAILER_FIELD] = {400, "field not allowed in a trailer"},
    [RG__E_NO_MEMORY] = {503, "out of memory"},
};

int rg__http_error_status(enum rg__http_error err)
{
	if ((unsigned)err >= RG__E_COUNT)
		return 500;
	return errors[err].status;
}

const char *rg__http_error_reason(enum rg__http_error err)
{
	if ((unsigned)err >= RG__E_COUNT)
		return "unknown error";
	return errors[err].reason;
}
