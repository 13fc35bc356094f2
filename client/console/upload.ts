// A raw upload (firmware or app image) with progress. fetch reports no upload progress and
// Chromium streams a request body only over HTTP/2, so this one call uses XMLHttpRequest; the
// answer and the errors are read exactly as client/apiClient.ts reads them.
import { ApiError, errorOf, parseBody, type AnswerParser } from '../apiClient.ts';
import { tokenStore } from './session.ts';

export interface UploadProgress {
  sent: number;
  total: number;
}

export function uploadContent<T>(schema: AnswerParser<T>, path: string, body: Blob, onProgress: (p: UploadProgress) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', new URL(path, location.origin));
    const token = tokenStore.get();
    if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress({ sent: e.loaded, total: e.lengthComputable ? e.total : body.size });
    xhr.onload = () => {
      const answer = parseBody(xhr.responseText);
      if (xhr.status < 200 || xhr.status > 299) return reject(errorOf(xhr.status, answer));
      try {
        resolve(schema.parse(answer));
      } catch (err) {
        reject(err);
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', `The server at ${location.origin} cannot be reached.`));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'The upload was cancelled.'));
    xhr.send(body);
  });
}
