// Shapes of the X-Ray API (spec §3.3), as far as the console reads them.

export interface HistogramEntry { Value: number; Count: number }
export interface ErrorStatistics { ThrottleCount?: number; OtherCount?: number; TotalCount?: number }
export interface FaultStatistics { OtherCount?: number; TotalCount?: number }
export interface Statistics {
  OkCount?: number;
  ErrorStatistics?: ErrorStatistics;
  FaultStatistics?: FaultStatistics;
  TotalCount?: number;
  TotalResponseTime?: number;
}
export interface Edge {
  ReferenceId: number;
  StartTime?: number;
  EndTime?: number;
  SummaryStatistics?: Statistics;
  ResponseTimeHistogram?: HistogramEntry[];
  EdgeType?: string;
}
export interface Service {
  ReferenceId: number;
  Name?: string;
  Names?: string[];
  Root?: boolean;
  AccountId?: string;
  Type?: string;
  State?: string;
  StartTime?: number;
  EndTime?: number;
  Edges?: Edge[];
  SummaryStatistics?: Statistics;
  DurationHistogram?: HistogramEntry[];
  ResponseTimeHistogram?: HistogramEntry[];
}
export interface ServiceId { Name?: string; Names?: string[]; AccountId?: string; Type?: string }
export interface AnnotationValue { NumberValue?: number; BooleanValue?: boolean; StringValue?: string }
export interface RootCauseEntity { Name?: string; Exceptions?: { Name?: string; Message?: string }[]; Remote?: boolean; Coverage?: number }
export interface RootCauseService { Name?: string; Names?: string[]; Type?: string; EntityPath?: RootCauseEntity[]; Inferred?: boolean }
export interface RootCause { Services?: RootCauseService[]; ClientImpacting?: boolean }
export interface TraceSummary {
  Id: string;
  StartTime?: number;
  Duration?: number;
  ResponseTime?: number;
  HasFault?: boolean;
  HasError?: boolean;
  HasThrottle?: boolean;
  IsPartial?: boolean;
  Http?: { HttpURL?: string; HttpStatus?: number; HttpMethod?: string; UserAgent?: string; ClientIp?: string };
  Annotations?: Record<string, { AnnotationValue?: AnnotationValue; ServiceIds?: ServiceId[] }[]>;
  Users?: { UserName?: string }[];
  ServiceIds?: ServiceId[];
  EntryPoint?: ServiceId;
  FaultRootCauses?: RootCause[];
  ErrorRootCauses?: RootCause[];
  ResponseTimeRootCauses?: RootCause[];
}
export interface Trace { Id: string; Duration?: number; LimitExceeded?: boolean; Segments?: { Id: string; Document: string }[] }

export interface SamplingRule {
  RuleName: string;
  RuleARN?: string;
  ResourceARN: string;
  Priority: number;
  FixedRate: number;
  ReservoirSize: number;
  ServiceName: string;
  ServiceType: string;
  Host: string;
  HTTPMethod: string;
  URLPath: string;
  Version: number;
  Attributes?: Record<string, string>;
}
export interface SamplingRuleRecord { SamplingRule: SamplingRule; CreatedAt?: number; ModifiedAt?: number }
export interface Group {
  GroupName: string;
  GroupARN?: string;
  FilterExpression?: string;
  InsightsConfiguration?: { InsightsEnabled?: boolean; NotificationsEnabled?: boolean };
}

// Segment documents as stored (spec §1); only what the timeline shows.
export interface Exception {
  id?: string; message?: string; type?: string; remote?: boolean; truncated?: number; skipped?: number; cause?: string;
  stack?: { path?: string; line?: number; label?: string }[];
}
export interface SegmentDoc {
  id: string;
  name: string;
  trace_id?: string;
  parent_id?: string;
  type?: string;
  start_time: number;
  end_time?: number;
  in_progress?: boolean;
  namespace?: string;
  origin?: string;
  inferred?: boolean;
  error?: boolean;
  fault?: boolean;
  throttle?: boolean;
  user?: string;
  http?: Record<string, unknown>;
  aws?: Record<string, unknown>;
  sql?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  cause?: string | { working_directory?: string; paths?: string[]; exceptions?: Exception[] };
  subsegments?: SegmentDoc[];
}
