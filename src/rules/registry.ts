import type { Rule } from './types.js';
import apiError from './api-error.js';
import blankContent from './blank-content.js';
import brokenParentLink from './broken-parent-link.js';
import clientInterruptedResult from './client-interrupted-result.js';
import concatenatedLine from './concatenated-line.js';
import connectionLostResult from './connection-lost-result.js';
import conversationStartsMidWay from './conversation-starts-mid-way.js';
import crashedClient from './crashed-client.js';
import duplicateToolUseId from './duplicate-tool-use-id.js';
import interruptMarker from './interrupt-marker.js';
import invalidEntryShape from './invalid-entry-shape.js';
import invalidUtf8 from './invalid-utf8.js';
import misplacedThinking from './misplaced-thinking.js';
import loneSurrogate from './lone-surrogate.js';
import notAnEntry from './not-an-entry.js';
import nulBytes from './nul-bytes.js';
import orphanedToolResult from './orphaned-tool-result.js';
import orphanedServerToolResult from './orphaned-server-tool-result.js';
import orphanedToolUse from './orphaned-tool-use.js';
import tornLine from './torn-line.js';
import truncatedTail from './truncated-tail.js';
import unfinishedTurn from './unfinished-turn.js';
import unknownBlockType from './unknown-block-type.js';
import untrackedSideEffect from './untracked-side-effect.js';
import pathOutsideProject from './path-outside-project.js';
import survivingProcess from './surviving-process.js';

/** Every rule, in the order findings are reported: bytes first, then the conversation, then the process. */
export const RULES: readonly Rule[] = [
  truncatedTail,
  tornLine,
  concatenatedLine,
  nulBytes,
  invalidUtf8,
  notAnEntry,
  loneSurrogate,
  invalidEntryShape,
  brokenParentLink,
  conversationStartsMidWay,
  orphanedToolUse,
  orphanedToolResult,
  orphanedServerToolResult,
  duplicateToolUseId,
  unknownBlockType,
  blankContent,
  misplacedThinking,
  unfinishedTurn,
  apiError,
  interruptMarker,
  clientInterruptedResult,
  connectionLostResult,
  crashedClient,
  survivingProcess,
  untrackedSideEffect,
  pathOutsideProject,
];
